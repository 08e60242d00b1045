package nimbus

import "context"

// Entity is one record of a Table: an opaque payload under a partition key and a row key.
// Keys are arbitrary non-empty UTF-8 strings (up to MaxKeyLength bytes); implementations
// encode them as their backend requires, so callers never see a storage key error.
type Entity struct {
	PartitionKey string
	RowKey       string
	// Data is the payload, usually JSON, at most MaxEntityData bytes.
	Data []byte
	// ETag identifies the stored version. It is set by Get, List and every write; an empty
	// ETag in a condition means "unconditional".
	ETag string
}

const (
	// MaxKeyLength bounds PartitionKey and RowKey (bytes, before any encoding).
	MaxKeyLength = 512
	// MaxEntityData bounds Entity.Data. Azure Table entities hold at most 1 MiB in all (and
	// Azurite counts the JSON of the request, where binary data travels as base64); callers
	// with larger values split them over several rows.
	MaxEntityData = 512 << 10
	// MaxBatch is the most operations one Batch may carry (Azure Table transactions).
	MaxBatch = 100
	// MaxBatchData bounds the sum of Data over the operations of one Batch. An Azure Table
	// transaction is at most 4 MiB of request, in which binary data grows by a third as
	// base64; 2 MiB leaves room for that and the per-operation envelopes.
	MaxBatchData = 2 << 20
	// MaxPageSize is the most entities one List call returns.
	MaxPageSize = 1000
)

// BatchOpKind says what one operation of a batch does.
type BatchOpKind int

const (
	BatchInsert BatchOpKind = iota + 1 // fails the batch with KindConflict when the row exists
	BatchUpsert                        // insert or replace
	BatchUpdate                        // replace; fails with KindNotFound when missing, KindConflict when IfMatch differs
	BatchDelete                        // fails with KindNotFound when missing, KindConflict when IfMatch differs
)

// BatchOp is one operation of a Batch. For BatchDelete only RowKey and IfMatch are used.
type BatchOp struct {
	Kind    BatchOpKind
	RowKey  string
	Data    []byte
	IfMatch string // optional ETag condition for BatchUpdate and BatchDelete
}

// Page is one page of a List.
type Page struct {
	Entities []Entity
	// Next is the cursor of the following page; empty when this was the last page.
	Next string
}

// Table is a store of entities with Azure Table semantics: strong consistency within a
// partition, optimistic concurrency by ETag, and atomic batches within one partition.
// Implementations are safe for concurrent use. Every error is a *Error: KindNotFound,
// KindConflict (existing row, or an ETag that does not match), KindInvalid (a bad key, data
// too large, a malformed batch), KindUnavailable (the backend cannot be reached or timed out).
type Table interface {
	// Get returns the entity, or KindNotFound.
	Get(ctx context.Context, partitionKey, rowKey string) (Entity, error)
	// Insert stores a new entity and returns its ETag; KindConflict when it exists.
	Insert(ctx context.Context, e Entity) (etag string, err error)
	// Upsert inserts or replaces the entity and returns its ETag.
	Upsert(ctx context.Context, e Entity) (etag string, err error)
	// Update replaces an existing entity; with e.ETag set, only if the stored ETag matches.
	// KindNotFound when missing, KindConflict on an ETag mismatch.
	Update(ctx context.Context, e Entity) (etag string, err error)
	// Delete removes the entity; with ifMatch set, only if the stored ETag matches.
	// KindNotFound when missing, KindConflict on an ETag mismatch.
	Delete(ctx context.Context, partitionKey, rowKey, ifMatch string) error
	// List returns entities of one partition whose row key starts with prefix (empty: all),
	// at most limit (1..MaxPageSize) per page, continuing from cursor (empty: from the start).
	// The order is the store's key order (ascending, possibly of an encoded key): stable, but
	// callers must not rely on it matching Go string order. Cursors are opaque and stay valid
	// across writes; a full pass sees every entity that existed throughout it exactly once.
	List(ctx context.Context, partitionKey, prefix, cursor string, limit int) (Page, error)
	// Batch applies up to MaxBatch operations (with at most MaxBatchData bytes of Data in
	// all) on distinct row keys of one partition atomically: all of them or none. The first
	// failing operation's kind is returned.
	Batch(ctx context.Context, partitionKey string, ops []BatchOp) error
}

// Tables opens the named tables of one storage account. Table names are fixed lowercase
// ASCII identifiers chosen by the code (see the Table* constants).
type Tables interface {
	Table(name string) Table
}

// Table names (ARCHITECTURE.md, storage layout).
const (
	TableDirectory         = "directory"
	TableContacts          = "contacts"
	TableSubscriptions     = "subscriptions"
	TableSubscriptionIndex = "subscriptionindex"
	TableTasks             = "tasks"
	TableDeliveryFailures  = "deliveryfailures"
	TableCommandOutbox     = "commandoutbox"
	TableExternalTasks     = "externaltasks"
	TableDeliveryAttempts  = "deliveryattempts"
)

// AllTables lists every table the system uses, for adapters that create them at start.
var AllTables = []string{TableDirectory, TableContacts, TableSubscriptions, TableSubscriptionIndex, TableTasks, TableDeliveryFailures, TableCommandOutbox, TableExternalTasks, TableDeliveryAttempts}
