package embedded

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Stats counts every stored message and ages only those that are due: a message scheduled
// for later is in the depth, not in the oldest age.
func TestQueueStats(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	qs := db.Queues(QueueOptions{})
	q := qs.Queue("work")
	if err := q.Send(t.Context(), nimbus.Message{ID: "later", Body: []byte("x"), NotBefore: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := qs.Stats(); len(got) != 1 || got[0].Name != "work" || got[0].Depth != 1 || got[0].OldestDue != 0 {
		t.Fatalf("only a scheduled message: %+v", got)
	}
	before := time.Now()
	if err := q.Send(t.Context(), nimbus.Message{ID: "now", Body: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // let the due message age measurably
	got := qs.Stats()
	if len(got) != 1 || got[0].Depth != 2 || got[0].OldestDue <= 0 || got[0].OldestDue > time.Since(before) {
		t.Fatalf("a due and a scheduled message: %+v (sent %v ago)", got, time.Since(before))
	}
}
