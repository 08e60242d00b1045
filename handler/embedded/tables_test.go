package embedded

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
	"github.com/nimbusflow/connector/handler/storetest"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "nested", "dir", "nimbus.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) nimbus.Tables { return openTemp(t).Tables() })
}

func TestOpenTwiceFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nimbus.db")
	db, err := Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()

	// bbolt's flock conflicts between two opens of the file even within one process, which
	// is what a second process would see.
	start := time.Now()
	second, err := Open(path)
	if err == nil {
		second.Close()
		t.Fatal("second open succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "database is in use by another process") {
		t.Errorf("second open: got %q, want it to say the database is in use", err)
	}
	if d := time.Since(start); d > lockTimeout+3*time.Second {
		t.Errorf("second open took %v, want about %v", d, lockTimeout)
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nimbus.db")
	db, err := Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	etag, err := db.Tables().Table("t").Insert(t.Context(), nimbus.Entity{PartitionKey: "p", RowKey: "r", Data: []byte("kept")})
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	db, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	e, err := db.Tables().Table("t").Get(t.Context(), "p", "r")
	if err != nil {
		t.Fatalf("get after reopen: %v", err)
	}
	if string(e.Data) != "kept" || e.ETag != etag {
		t.Errorf("get after reopen: got %q ETag %q, want %q ETag %q", e.Data, e.ETag, "kept", etag)
	}
}

func TestClosedIsUnavailable(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "nimbus.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	tb := db.Tables().Table("t")
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	_, err = tb.Get(t.Context(), "p", "r")
	if got := nimbus.KindOf(err); got != nimbus.KindUnavailable {
		t.Errorf("get after close: got kind %s (%v), want %s", got, err, nimbus.KindUnavailable)
	}
}

func TestCanceledContextIsUnavailable(t *testing.T) {
	tb := openTemp(t).Tables().Table("t")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := tb.Insert(ctx, nimbus.Entity{PartitionKey: "p", RowKey: "r"})
	if got := nimbus.KindOf(err); got != nimbus.KindUnavailable {
		t.Errorf("insert with canceled context: got kind %s (%v), want %s", got, err, nimbus.KindUnavailable)
	}
}
