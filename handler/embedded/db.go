package embedded

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// lockTimeout bounds the wait for bbolt's exclusive file lock. A second process opening the
// same file must fail fast with a clear message rather than hang until the first one exits.
const lockTimeout = 2 * time.Second

// bucketTables is the top-level bucket of the Table store; it holds one sub-bucket per table.
var bucketTables = []byte("tables")

// DB is one open bbolt file holding every embedded store. It is safe for concurrent use.
type DB struct {
	bolt *bbolt.DB
}

// Open opens or creates the bbolt file at path, creating its parent directories. Only one
// process may hold the file; a second Open fails after lockTimeout.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open embedded store: empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open embedded store: %w", err)
	}
	// The free-page list is not written with every commit (the queue commits hundreds of
	// times a second, and the list grows with the file); Open rebuilds it by walking the
	// pages, as etcd does. The map form keeps allocation cheap when the list is long.
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open embedded store %s: database is in use by another process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open embedded store %s: %w", path, err)
	}
	err = b.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketTables)
		return err
	})
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("open embedded store %s: create buckets: %w", path, err)
	}
	// A short batch window: long enough for concurrent writers to join one transaction, short
	// enough that a lone writer barely waits (the default 10 ms would dominate latency).
	b.MaxBatchDelay = batchDelay
	return &DB{bolt: b}, nil
}

// batchDelay is how long a table write waits for others to join its transaction.
const batchDelay = 500 * time.Microsecond

// Close releases the file. Operations on its stores fail with KindUnavailable afterwards.
func (d *DB) Close() error {
	if err := d.bolt.Close(); err != nil {
		return fmt.Errorf("close embedded store: %w", err)
	}
	return nil
}

// Bolt exposes the file to the other stores of this package, each of which keeps to its own
// top-level bucket.
func (d *DB) Bolt() *bbolt.DB { return d.bolt }

// Tables returns the Table store. Tables are created on first write; reading a table that was
// never written behaves as reading an empty one.
func (d *DB) Tables() nimbus.Tables { return tableSet{bolt: d.bolt} }

type tableSet struct{ bolt *bbolt.DB }

var _ nimbus.Tables = tableSet{}

func (s tableSet) Table(name string) nimbus.Table {
	return &table{bolt: s.bolt, name: []byte(name)}
}
