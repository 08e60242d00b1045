package embedded

import (
	"testing"
	"time"
)

func wantTaken(t *testing.T, what string, x *index, want ...string) []*entry {
	t.Helper()
	var got []*entry
	var ids []string
	for e := x.take(); e != nil; e = x.take() {
		got = append(got, e)
		ids = append(ids, e.id)
	}
	if len(ids) != len(want) {
		t.Fatalf("%s: took %v, want %v", what, ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("%s: took %v, want %v", what, ids, want)
		}
	}
	return got
}

func TestIndexSessions(t *testing.T) {
	x := newIndex()
	const now = 1000
	for i, m := range []struct{ id, session string }{{"a1", "A"}, {"a2", "A"}, {"b1", "B"}, {"n1", ""}, {"n2", ""}} {
		x.add(&entry{seq: uint64(i + 1), id: m.id, session: m.session}, now)
	}
	taken := wantTaken(t, "first round", x, "a1", "b1", "n1", "n2")
	a1, b1 := taken[0], taken[1]

	// An abandoned head backs off and stays at the head: a2 waits behind it.
	a1.availableAt = now + 50
	x.release(a1, now)
	x.remove(b1, now)
	wantTaken(t, "during a1's backoff", x)
	if next := x.promote(now + 10); next != now+50 {
		t.Fatalf("promote: got next due %d, want %d", next, now+50)
	}
	x.promote(now + 50)
	a1 = wantTaken(t, "after a1's backoff", x, "a1")[0]
	x.remove(a1, now+50)
	a2 := wantTaken(t, "after a1 completed", x, "a2")[0]
	x.remove(a2, now+50)
	if len(x.sessions) != 0 {
		t.Fatalf("got %d sessions left, want none", len(x.sessions))
	}
}

// A scheduled session message joins its session when it is due, behind the head: it neither
// blocks the session before its time nor overtakes a message already being handled.
func TestIndexScheduledSessionMessage(t *testing.T) {
	x := newIndex()
	const now = 1000
	x.add(&entry{seq: 1, id: "scheduled", session: "S", notBefore: now + 100}, now)
	x.add(&entry{seq: 2, id: "now", session: "S"}, now)
	x.add(&entry{seq: 3, id: "after", session: "S"}, now)
	head := wantTaken(t, "before the schedule", x, "now")[0]
	x.promote(now + 100)
	wantTaken(t, "while the head is in flight", x)
	x.remove(head, now+100)
	// By sequence, the scheduled message goes before "after".
	s := wantTaken(t, "after the head completed", x, "scheduled")[0]
	x.remove(s, now+100)
	wantTaken(t, "last", x, "after")
}

func TestIndexLoadOrder(t *testing.T) {
	x := newIndex()
	const now = 1000
	x.load(&entry{seq: 1, id: "a1", session: "A", deliveries: 2, availableAt: now + 10}, now)
	x.load(&entry{seq: 2, id: "a2", session: "A"}, now)
	x.load(&entry{seq: 3, id: "later", notBefore: now + 500}, now)
	x.load(&entry{seq: 4, id: "n", availableAt: now - 1}, now)
	x.placeHeads(now)
	wantTaken(t, "at load", x, "n")
	x.promote(now + 10)
	wantTaken(t, "after a1's backoff", x, "a1")
	if next := x.promote(now + 10); next != now+500 {
		t.Fatalf("got next due %d, want %d", next, now+500)
	}
}

// TestIndexScheduledCostNothing compares the cost of handing out ready messages with and
// without 200,000 messages scheduled for later. A receive that looked at scheduled messages
// would be thousands of times slower; a heap is not measurably slower.
func TestIndexScheduledCostNothing(t *testing.T) {
	const cycles, scheduled = 20000, 200000
	measure := func(x *index, seq uint64) time.Duration {
		const now = 1000
		start := time.Now()
		for i := range cycles {
			e := &entry{seq: seq + uint64(i), id: "r", session: []string{"", "s"}[i%2]}
			x.add(e, now)
			x.promote(now)
			got := x.take()
			if got != e {
				t.Fatalf("cycle %d: took %v, want the ready message", i, got)
			}
			x.remove(got, now)
		}
		return time.Since(start)
	}
	empty := measure(newIndex(), 1)
	loaded := newIndex()
	for i := range scheduled {
		loaded.add(&entry{seq: uint64(i + 1), id: "later", notBefore: int64(time.Hour) + int64(i)}, 1000)
	}
	full := measure(loaded, scheduled+1)
	t.Logf("%d receive cycles: %v with nothing scheduled, %v with %d scheduled", cycles, empty, full, scheduled)
	if full > 20*empty+20*time.Millisecond {
		t.Fatalf("scheduled messages slow receiving down: %v vs %v", full, empty)
	}
}
