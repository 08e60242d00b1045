package embedded

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// table is one table of the embedded store: the sub-bucket name of bucketTables. bbolt
// serialises writers and gives readers a consistent snapshot, which is all the consistency
// nimbus.Table asks for.
type table struct {
	bolt *bbolt.DB
	name []byte
}

var _ nimbus.Table = (*table)(nil)

func (t *table) Get(ctx context.Context, partitionKey, rowKey string) (nimbus.Entity, error) {
	if err := nimbus.CheckKey("partitionKey", partitionKey); err != nil {
		return nimbus.Entity{}, err
	}
	if err := nimbus.CheckKey("rowKey", rowKey); err != nil {
		return nimbus.Entity{}, err
	}
	e := nimbus.Entity{PartitionKey: partitionKey, RowKey: rowKey}
	err := t.view(ctx, "get", func(b *bbolt.Bucket) error {
		if b == nil {
			return errMissing()
		}
		v := b.Get(entityKey(partitionKey, rowKey))
		if v == nil {
			return errMissing()
		}
		var err error
		e.ETag, e.Data, err = decodeRecord(v)
		return err
	})
	if err != nil {
		return nimbus.Entity{}, err
	}
	return e, nil
}

func (t *table) Insert(ctx context.Context, e nimbus.Entity) (string, error) {
	return t.write(ctx, "insert", e, nimbus.BatchInsert)
}

// Upsert ignores e.ETag: inserting or replacing is unconditional.
func (t *table) Upsert(ctx context.Context, e nimbus.Entity) (string, error) {
	e.ETag = ""
	return t.write(ctx, "upsert", e, nimbus.BatchUpsert)
}

func (t *table) Update(ctx context.Context, e nimbus.Entity) (string, error) {
	return t.write(ctx, "update", e, nimbus.BatchUpdate)
}

func (t *table) Delete(ctx context.Context, partitionKey, rowKey, ifMatch string) error {
	_, err := t.write(ctx, "delete", nimbus.Entity{PartitionKey: partitionKey, RowKey: rowKey, ETag: ifMatch}, nimbus.BatchDelete)
	return err
}

// write applies one operation in its own transaction; single writes are batches of one.
func (t *table) write(ctx context.Context, op string, e nimbus.Entity, kind nimbus.BatchOpKind) (string, error) {
	if err := nimbus.CheckEntity(e); err != nil {
		return "", err
	}
	if fx := effectsFor(ctx, t.bolt); fx != nil && fx.collectWrite(t.name, e, kind) {
		return "", nil // written with the completion of the message being handled
	}
	var etag string
	err := t.update(ctx, op, func(b *bbolt.Bucket) error {
		var err error
		etag, err = apply(b, e.PartitionKey, nimbus.BatchOp{Kind: kind, RowKey: e.RowKey, Data: e.Data, IfMatch: e.ETag})
		return err
	})
	if err != nil {
		return "", err
	}
	return etag, nil
}

// apply performs one validated operation inside a write transaction and returns the new ETag
// (empty for a delete). A failed condition is a *nimbus.Error; bbolt failures come back as
// they are, for storeError to classify.
func apply(b *bbolt.Bucket, partitionKey string, op nimbus.BatchOp) (string, error) {
	key := entityKey(partitionKey, op.RowKey)
	if op.Kind != nimbus.BatchUpsert {
		v := b.Get(key)
		switch {
		case op.Kind == nimbus.BatchInsert && v != nil:
			return "", nimbus.Conflict("the entity already exists")
		case op.Kind != nimbus.BatchInsert && v == nil:
			return "", errMissing()
		case op.Kind != nimbus.BatchInsert && op.IfMatch != "":
			current, err := recordETag(v)
			if err != nil {
				return "", err
			}
			if current != op.IfMatch {
				return "", nimbus.Conflict("the entity was changed since it was read (ETag mismatch)")
			}
		}
	}
	if op.Kind == nimbus.BatchDelete {
		return "", b.Delete(key)
	}
	version, err := b.NextSequence()
	if err != nil {
		return "", err
	}
	if err := b.Put(key, encodeRecord(version, op.Data)); err != nil {
		return "", err
	}
	return etagOf(version), nil
}

func errMissing() *nimbus.Error { return nimbus.NotFound("the entity does not exist") }

// view runs fn on the table's bucket in a read transaction. A table never written has no
// bucket yet: fn gets nil and must treat it as an empty table.
func (t *table) view(ctx context.Context, op string, fn func(*bbolt.Bucket) error) error {
	if err := ctx.Err(); err != nil {
		return nimbus.Unavailable(op, err)
	}
	err := t.bolt.View(func(tx *bbolt.Tx) error {
		return fn(tx.Bucket(bucketTables).Bucket(t.name))
	})
	return storeError(op, err)
}

// update runs fn on the table's bucket in a write transaction, creating the bucket on first
// use. Any error from fn rolls its changes back.
//
// Writes of concurrent callers share one transaction (bbolt's Batch), so they share one
// fsync: the event pipeline writes a task projection per event from many workers, and one
// fsync each would cap it at the disk's sync rate. Batch may run fn more than once and
// rolls back a failed fn alone; every fn here only reads and writes its bucket, and callers
// keep its results only after it returned, so that is safe.
func (t *table) update(ctx context.Context, op string, fn func(*bbolt.Bucket) error) error {
	if err := ctx.Err(); err != nil {
		return nimbus.Unavailable(op, err)
	}
	err := t.bolt.Batch(func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(bucketTables).CreateBucketIfNotExists(t.name)
		if err != nil {
			return fmt.Errorf("create table %q: %w", t.name, err)
		}
		return fn(b)
	})
	return storeError(op, err)
}

// storeError passes *nimbus.Error through and classifies everything else: a closed database
// or a full disk is unavailable (it passes without anyone fixing the request), anything else
// (I/O errors, corrupt records) is internal.
func storeError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ne *nimbus.Error
	if errors.As(err, &ne) {
		return err
	}
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return nimbus.Unavailable(op, err)
	}
	if diskFull(err) {
		return &nimbus.Error{Kind: nimbus.KindUnavailable, Message: "The service cannot store data right now; try again later.", RetryAfter: fullRetryAfter, Err: fmt.Errorf("%s: disk full: %w", op, err)}
	}
	return &nimbus.Error{Kind: nimbus.KindInternal, Message: "the embedded store failed", Err: fmt.Errorf("%s: %w", op, err)}
}

// fullRetryAfter is the Retry-After of writes refused for a full disk: freeing space takes an
// operator, so clients should not hammer the store meanwhile.
const fullRetryAfter = 30 * time.Second

// diskFull reports write errors that mean "no room": the file system is full (ENOSPC), the
// user's quota is used up (EDQUOT), the file size limit is reached (EFBIG), or bbolt's own
// size cap. bbolt formats some of these with %s rather than wrapping them, so their text is
// checked too.
func diskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG) || errors.Is(err, berrors.ErrMaxSizeReached) {
		return true
	}
	msg := err.Error()
	for _, text := range []string{syscall.ENOSPC.Error(), syscall.EDQUOT.Error(), syscall.EFBIG.Error(), berrors.ErrMaxSizeReached.Error()} {
		if strings.Contains(msg, text) {
			return true
		}
	}
	return false
}
