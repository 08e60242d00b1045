package tables

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// cursor is the service's continuation token, which List hands out opaquely as base64url
// JSON. The service resumes from these keys, so the cursor survives writes.
type cursor struct {
	PartitionKey string `json:"p,omitempty"`
	RowKey       string `json:"r,omitempty"`
}

func (c cursor) String() string {
	if c.PartitionKey == "" && c.RowKey == "" {
		return ""
	}
	b, _ := json.Marshal(c) // two strings always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || (c.PartitionKey == "" && c.RowKey == "") {
		return cursor{}, nimbus.Invalid("cursor", "cursor must be one returned by a previous List")
	}
	return c, nil
}

// List fetches one service page: a query on the partition (and the row key range of the
// prefix) with Top = limit. The service may return fewer than limit entities, even none,
// together with a cursor; callers page until the cursor is empty.
func (t *table) List(ctx context.Context, partitionKey, prefix, cursorText string, limit int) (nimbus.Page, error) {
	if err := nimbus.CheckList(partitionKey, prefix, limit); err != nil {
		return nimbus.Page{}, err
	}
	filter := listFilter(encodeKey(partitionKey), encodeKey(prefix))
	top := int32(limit)
	opts := &aztables.ListEntitiesOptions{Filter: &filter, Top: &top}
	if cursorText != "" {
		c, err := parseCursor(cursorText)
		if err != nil {
			return nimbus.Page{}, err
		}
		if c.PartitionKey != "" {
			opts.NextPartitionKey = &c.PartitionKey
		}
		if c.RowKey != "" {
			opts.NextRowKey = &c.RowKey
		}
	}

	resp, err := t.client.NewListEntitiesPager(opts).NextPage(ctx)
	if err != nil {
		return nimbus.Page{}, translate("list", err)
	}
	page := nimbus.Page{Entities: make([]nimbus.Entity, 0, len(resp.Entities))}
	for _, raw := range resp.Entities {
		se, err := unmarshalEntity(raw)
		if err != nil {
			return nimbus.Page{}, malformed("list", err)
		}
		rowKey, err := decodeKey(se.RowKey)
		if err != nil {
			return nimbus.Page{}, malformed("list", err)
		}
		page.Entities = append(page.Entities, nimbus.Entity{PartitionKey: partitionKey, RowKey: rowKey, Data: se.Data, ETag: se.ETag})
	}
	var next cursor
	if resp.NextPartitionKey != nil {
		next.PartitionKey = *resp.NextPartitionKey
	}
	if resp.NextRowKey != nil {
		next.RowKey = *resp.NextRowKey
	}
	page.Next = next.String()
	return page, nil
}
