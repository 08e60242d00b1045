package embedded

import (
	"container/heap"
	"sort"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// entry is the in-memory view of one stored, not yet completed message: everything but its
// body, which stays in bbolt until the message is handed out. Entries are owned by their
// queue and read or written only under queue.mu.
type entry struct {
	seq         uint64
	id          string
	session     string
	enqueuedAt  int64 // unix nanoseconds
	notBefore   int64 // unix nanoseconds; 0 when not scheduled
	availableAt int64 // unix nanoseconds; after an abandon, the end of its backoff
	deliveries  int   // failed deliveries so far (persisted abandons)

	// activated is set once notBefore has passed: only then does a session message take its
	// place in the session's order, as a scheduled Service Bus message is enqueued only at
	// its scheduled time.
	activated bool
	state     entryState
}

type entryState uint8

const (
	stateWaiting  entryState = iota + 1 // in index.waiting: scheduled or backing off
	stateReady                          // in index.ready
	stateQueued                         // behind its session's head, or head of a busy session
	stateInFlight                       // handed to a handler, not yet settled
)

// message returns what a handler sees for this delivery.
func (e *entry) message(body []byte) nimbus.Message {
	m := nimbus.Message{
		ID:            e.id,
		SessionID:     e.session,
		Body:          body,
		DeliveryCount: e.deliveries + 1,
		EnqueuedAt:    time.Unix(0, e.enqueuedAt).UTC(),
	}
	if e.notBefore != 0 {
		m.NotBefore = time.Unix(0, e.notBefore).UTC()
	}
	return m
}

// session is the order of one session's activated messages. Only list[0], the head, is ever
// handed out, and only while the session is not busy, which is what gives "one at a time,
// in order".
type session struct {
	list []*entry
	busy bool // the head is in flight
}

func (s *session) head() *entry {
	if len(s.list) == 0 {
		return nil
	}
	return s.list[0]
}

// insert puts e in sequence order, but never before the head: the head may already have been
// delivered and abandoned, and a session's head keeps its place until it is settled.
func (s *session) insert(e *entry) {
	n := len(s.list)
	if n == 0 || s.list[n-1].seq < e.seq { // the common case: a new message goes last
		s.list = append(s.list, e)
		return
	}
	i := 1 + sort.Search(n-1, func(i int) bool { return s.list[1+i].seq > e.seq })
	s.list = append(s.list, nil)
	copy(s.list[i+1:], s.list[i:])
	s.list[i] = e
}

// index finds the next deliverable message without touching bbolt: ready holds exactly the
// entries that may be handed out now, ordered by sequence (FIFO), and waiting holds the
// entries that become deliverable at a known time, ordered by that time. Both are heaps, so
// neither receiving nor timing costs more with the number of scheduled messages than a
// logarithm. Not safe for concurrent use: queue.mu guards it.
type index struct {
	entries  map[uint64]*entry
	ready    readyHeap
	waiting  waitHeap
	sessions map[string]*session
}

func newIndex() *index {
	return &index{entries: map[uint64]*entry{}, sessions: map[string]*session{}}
}

// add takes in a message that was just stored.
func (x *index) add(e *entry, now int64) {
	x.entries[e.seq] = e
	x.place(e, now)
}

// load takes in a message read back from bbolt, in sequence order. Activated session
// messages are only queued; placeHeads then releases each session's head.
func (x *index) load(e *entry, now int64) {
	x.entries[e.seq] = e
	if e.session == "" || e.notBefore > now {
		x.place(e, now)
		return
	}
	e.activated = true
	e.state = stateQueued
	x.sessionOf(e).list = append(x.sessionOf(e).list, e)
}

func (x *index) placeHeads(now int64) {
	for _, s := range x.sessions {
		x.place(s.head(), now)
	}
}

// place puts e where it belongs at time now: waiting, ready, or queued in its session.
func (x *index) place(e *entry, now int64) {
	if !e.activated {
		if e.notBefore > now {
			x.wait(e)
			return
		}
		e.activated = true
		if e.session != "" {
			x.sessionOf(e).insert(e)
		}
	}
	if e.session != "" {
		if s := x.sessionOf(e); s.busy || s.head() != e {
			e.state = stateQueued
			return
		}
	}
	if e.availableAt > now {
		x.wait(e)
		return
	}
	e.state = stateReady
	heap.Push(&x.ready, e)
}

func (x *index) wait(e *entry) {
	e.state = stateWaiting
	heap.Push(&x.waiting, e)
}

func (x *index) sessionOf(e *entry) *session {
	s := x.sessions[e.session]
	if s == nil {
		s = &session{}
		x.sessions[e.session] = s
	}
	return s
}

// promote places every waiting entry that is due at now and returns when the next one is
// due (0: none is waiting).
func (x *index) promote(now int64) (next int64) {
	for len(x.waiting) > 0 {
		e := x.waiting[0]
		if due := e.due(); due > now {
			return due
		}
		heap.Pop(&x.waiting)
		x.place(e, now)
	}
	return 0
}

// take hands out the first ready entry, or returns nil.
func (x *index) take() *entry {
	if len(x.ready) == 0 {
		return nil
	}
	e := heap.Pop(&x.ready).(*entry)
	e.state = stateInFlight
	if e.session != "" {
		x.sessions[e.session].busy = true
	}
	return e
}

// remove forgets an in-flight entry that was completed or dead-lettered, and releases the
// next message of its session.
func (x *index) remove(e *entry, now int64) {
	delete(x.entries, e.seq)
	if e.session == "" {
		return
	}
	s := x.sessions[e.session]
	s.list[0] = nil
	s.list = s.list[1:]
	s.busy = false
	if len(s.list) == 0 {
		delete(x.sessions, e.session)
		return
	}
	x.place(s.head(), now)
}

// release puts an abandoned in-flight entry back; its session stays behind it.
func (x *index) release(e *entry, now int64) {
	if e.session != "" {
		x.sessions[e.session].busy = false
	}
	x.place(e, now)
}

// due is the time a waiting entry becomes deliverable (or joins its session).
func (e *entry) due() int64 {
	if !e.activated {
		return e.notBefore
	}
	return e.availableAt
}

type readyHeap []*entry

func (h readyHeap) Len() int           { return len(h) }
func (h readyHeap) Less(i, j int) bool { return h[i].seq < h[j].seq }
func (h readyHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *readyHeap) Push(v any)        { *h = append(*h, v.(*entry)) }
func (h *readyHeap) Pop() any          { return popLast((*[]*entry)(h)) }

type waitHeap []*entry

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	if a, b := h[i].due(), h[j].due(); a != b {
		return a < b
	}
	return h[i].seq < h[j].seq
}
func (h waitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *waitHeap) Push(v any)   { *h = append(*h, v.(*entry)) }
func (h *waitHeap) Pop() any     { return popLast((*[]*entry)(h)) }

func popLast(s *[]*entry) any {
	old := *s
	e := old[len(old)-1]
	old[len(old)-1] = nil // let the entry go once it is settled
	*s = old[:len(old)-1]
	return e
}
