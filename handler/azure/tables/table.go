package tables

import (
	"context"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// table adapts one aztables.Client. Keys are encoded with encodeKey on the way in and decoded
// on the way out; Data is chunked as entity.go describes.
type table struct {
	client *aztables.Client
}

var _ nimbus.Table = (*table)(nil)

// noMatch is a well-formed ETag that no entity ever has (the service derives ETags from the
// write time). The service answers a malformed If-Match with 400, yet to the caller any ETag
// it did not get from this store is merely one that does not match: it must fail with
// KindConflict (or KindNotFound when the entity is missing), as it does in the embedded
// store. So If-Match values not of the service's form are replaced by noMatch.
const noMatch = azcore.ETag(`W/"datetime'1900-01-01T00%3A00%3A00.0000000Z'"`)

// ifMatch turns the contract's "empty means unconditional" into an If-Match value: "*",
// which still requires the entity to exist, as the contract asks of Update and Delete.
func ifMatch(etag string) *azcore.ETag {
	e := azcore.ETag(etag)
	if etag == "" {
		e = azcore.ETagAny
	} else if !strings.HasPrefix(etag, `W/"datetime'`) || !strings.HasSuffix(etag, `'"`) || strings.ContainsAny(etag[3:len(etag)-1], `"\`) {
		e = noMatch
	}
	return &e
}

func (t *table) Get(ctx context.Context, partitionKey, rowKey string) (nimbus.Entity, error) {
	if err := nimbus.CheckKey("partitionKey", partitionKey); err != nil {
		return nimbus.Entity{}, err
	}
	if err := nimbus.CheckKey("rowKey", rowKey); err != nil {
		return nimbus.Entity{}, err
	}
	resp, err := t.client.GetEntity(ctx, encodeKey(partitionKey), encodeKey(rowKey), nil)
	if err != nil {
		return nimbus.Entity{}, translate("get", err)
	}
	se, err := unmarshalEntity(resp.Value)
	if err != nil {
		return nimbus.Entity{}, malformed("get", err)
	}
	return nimbus.Entity{PartitionKey: partitionKey, RowKey: rowKey, Data: se.Data, ETag: string(resp.ETag)}, nil
}

func (t *table) Insert(ctx context.Context, e nimbus.Entity) (string, error) {
	body, err := entityBody(e)
	if err != nil {
		return "", err
	}
	resp, err := t.client.AddEntity(ctx, body, nil)
	if err != nil {
		return "", translate("insert", err)
	}
	return string(resp.ETag), nil
}

// Upsert ignores e.ETag: inserting or replacing is unconditional.
func (t *table) Upsert(ctx context.Context, e nimbus.Entity) (string, error) {
	body, err := entityBody(e)
	if err != nil {
		return "", err
	}
	resp, err := t.client.UpsertEntity(ctx, body, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace})
	if err != nil {
		return "", translate("upsert", err)
	}
	return string(resp.ETag), nil
}

func (t *table) Update(ctx context.Context, e nimbus.Entity) (string, error) {
	body, err := entityBody(e)
	if err != nil {
		return "", err
	}
	resp, err := t.client.UpdateEntity(ctx, body, &aztables.UpdateEntityOptions{
		UpdateMode: aztables.UpdateModeReplace,
		IfMatch:    ifMatch(e.ETag),
	})
	if err != nil {
		return "", translate("update", err)
	}
	return string(resp.ETag), nil
}

func (t *table) Delete(ctx context.Context, partitionKey, rowKey, etag string) error {
	if err := nimbus.CheckKey("partitionKey", partitionKey); err != nil {
		return err
	}
	if err := nimbus.CheckKey("rowKey", rowKey); err != nil {
		return err
	}
	_, err := t.client.DeleteEntity(ctx, encodeKey(partitionKey), encodeKey(rowKey), &aztables.DeleteEntityOptions{IfMatch: ifMatch(etag)})
	return translate("delete", err)
}

// entityBody validates e and renders it for the service.
func entityBody(e nimbus.Entity) ([]byte, error) {
	if err := nimbus.CheckEntity(e); err != nil {
		return nil, err
	}
	body, err := marshalEntity(encodeKey(e.PartitionKey), encodeKey(e.RowKey), e.Data)
	if err != nil {
		return nil, internal("encode entity", err)
	}
	return body, nil
}
