package embedded

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// IDs are appended to the ID log by their Send and merged into the ID index in bulk; a
// duplicate is detected whether its ID is merged or still waiting, in this process or after
// a reopen, and the index is written once per merge, not once per Send.
func TestQueueIDsMergedInBulk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nimbus.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	qs := db.Queues(testQueueOptions)
	q := qs.Queue("q")
	ctx := t.Context()
	n := mergeIDsAt + mergeIDsAt/2
	send := func(q nimbus.Queue, from, to int) {
		t.Helper()
		var msgs []nimbus.Message
		for i := from; i < to; i++ {
			msgs = append(msgs, nimbus.Message{ID: fmt.Sprint("id-", i), Body: []byte("b")})
			if len(msgs) == 100 || i == to-1 {
				if err := q.Send(ctx, msgs...); err != nil {
					t.Fatal(err)
				}
				msgs = nil
			}
		}
	}
	send(q, 0, n)
	if got := qs.Len("q"); got != n {
		t.Fatalf("Len %d, want %d", got, n)
	}
	// Some IDs are merged into the index, the others wait; all are duplicates.
	var merged, logged int
	view := func(db *DB) {
		t.Helper()
		err := db.bolt.View(func(tx *bbolt.Tx) error {
			qb, _ := readBuckets(tx, "q")
			merged, logged = qb.ids.Stats().KeyN, qb.idtime.Stats().KeyN
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a merge", func() bool { view(db); return merged > 0 })
	if merged >= n || logged != n {
		t.Fatalf("index holds %d IDs and the log %d; want some of the %d merged, all logged", merged, logged, n)
	}
	send(q, 0, n)
	if got := qs.Len("q"); got != n {
		t.Fatalf("after sending every ID again: Len %d, want %d", got, n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = reopen(t, path)
	qs = db.Queues(testQueueOptions)
	send(qs.Queue("q"), 0, n+1)
	if got := qs.Len("q"); got != n+1 {
		t.Fatalf("after a reopen and sending every ID again and one new: Len %d, want %d", got, n+1)
	}

	// Past the window, the IDs are accepted again.
	opts := testQueueOptions
	opts.DuplicateWindow = time.Nanosecond
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, path)
	qs = db.Queues(opts)
	send(qs.Queue("q"), 0, 10)
	if got := qs.Len("q"); got != n+11 {
		t.Fatalf("past the window: Len %d, want %d", got, n+11)
	}
}
