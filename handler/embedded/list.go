package embedded

import (
	"bytes"
	"context"
	"encoding/base64"

	"go.etcd.io/bbolt"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// List scans the partition in row key byte order (which is Unicode code point order). The
// cursor is the last row key returned, base64url-encoded; the next page starts strictly after
// it, so a cursor stays valid whatever is written or deleted meanwhile.
func (t *table) List(ctx context.Context, partitionKey, prefix, cursor string, limit int) (nimbus.Page, error) {
	if err := nimbus.CheckList(partitionKey, prefix, limit); err != nil {
		return nimbus.Page{}, err
	}
	scope := entityKey(partitionKey, prefix)
	var after []byte
	if cursor != "" {
		last, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(last) == 0 {
			return nimbus.Page{}, nimbus.Invalid("cursor", "cursor must be one returned by a previous List")
		}
		after = entityKey(partitionKey, string(last))
	}

	var page nimbus.Page
	err := t.view(ctx, "list", func(b *bbolt.Bucket) error {
		if b == nil {
			return nil
		}
		c := b.Cursor()
		k, v := c.Seek(scope)
		if after != nil && bytes.Compare(after, scope) >= 0 {
			k, v = c.Seek(after)
			if bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, scope); k, v = c.Next() {
			if len(page.Entities) == limit {
				// There is at least one more entity: hand out a cursor, never an empty last page.
				page.Next = base64.RawURLEncoding.EncodeToString([]byte(page.Entities[limit-1].RowKey))
				return nil
			}
			etag, data, err := decodeRecord(v)
			if err != nil {
				return err
			}
			page.Entities = append(page.Entities, nimbus.Entity{PartitionKey: partitionKey, RowKey: rowKeyOf(k), Data: data, ETag: etag})
		}
		return nil
	})
	if err != nil {
		return nimbus.Page{}, err
	}
	return page, nil
}
