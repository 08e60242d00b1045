package embedded

import (
	"bytes"
	"encoding/binary"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// op is one change to the queue store. The committer applies pending ops together in one
// bbolt transaction and then tells each its outcome.
type op interface {
	// apply writes the change inside tx at time now (unix nanoseconds). It may run more than
	// once (alone, after a group failed), so it touches nothing but tx and its own results.
	apply(tx *bbolt.Tx, now int64) error
	// done is called exactly once, after the transaction committed (err nil) or failed. It
	// is where the in-memory index follows the file, so the index never runs ahead of it.
	done(err error, now int64)
	// size estimates the bytes the op writes.
	size() int
}

// Bounds of one transaction, so that a burst does not hold bbolt's writer (and with it the
// tables) for long, and the first ops of a burst are not kept waiting for the last.
const (
	maxOpsPerCommit   = 4096
	maxBytesPerCommit = 16 << 20
)

// committer is the queue store's group commit. Whoever submits an op while no commit is
// running starts one; while a transaction is being written, new ops accumulate and go into
// the next one. So a lone Send pays one transaction and no timer, and under load one fsync
// carries hundreds of sends, completes and abandons.
//
// It is not bbolt's DB.Batch: Batch holds every batch open for MaxBatchDelay (10 ms by
// default, a DB-wide setting shared with the other stores), and may call a function more
// than once, which would make "update the index exactly once, after the commit" awkward.
// Measured with BenchmarkQueueSendComplete (32 senders, 2 cores), Batch carried about
// 2,800 messages/s end to end and this committer about 32,000.
type committer struct {
	bolt *bbolt.DB

	// added is what the transaction being applied accepted so far, by queue: the IDs its
	// earlier Sends took, which are not in the file's ID index yet. Only the committing
	// goroutine touches it; every transaction attempt starts it afresh.
	added map[*queue]map[string]bool

	mu      sync.Mutex
	pending []op
	running bool
	last    int64 // the last commit time: commit times never go backwards within a process
}

func (c *committer) submit(o op) {
	c.mu.Lock()
	c.pending = append(c.pending, o)
	start := !c.running
	c.running = true
	c.mu.Unlock()
	if start {
		go c.run()
	}
}

// run commits until nothing is pending.
func (c *committer) run() {
	for {
		c.mu.Lock()
		n, size := 0, 0
		for n < len(c.pending) && n < maxOpsPerCommit && size < maxBytesPerCommit {
			size += c.pending[n].size()
			n++
		}
		if n == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		ops := append([]op(nil), c.pending[:n]...)
		rest := copy(c.pending, c.pending[n:])
		clear(c.pending[rest:])
		c.pending = c.pending[:rest]
		now := max(time.Now().UnixNano(), c.last)
		c.last = now
		c.mu.Unlock()
		c.commit(ops, now)
	}
}

func (c *committer) commit(ops []op, now int64) {
	err := c.bolt.Update(func(tx *bbolt.Tx) error {
		clear(c.added)
		for _, o := range ops {
			if err := o.apply(tx, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(ops) > 1 {
		// One op's failure must not fail the others: retry each alone.
		for _, o := range ops {
			o.done(c.bolt.Update(func(tx *bbolt.Tx) error {
				clear(c.added)
				return o.apply(tx, now)
			}), now)
		}
		return
	}
	for _, o := range ops {
		o.done(err, now)
	}
}

// sendOp stores the messages of one Send.
type sendOp struct {
	q      *queue
	msgs   []nimbus.Message
	window int64
	result chan error
	// unrecorded: the IDs are checked against duplicate detection but not recorded in it
	// (a Send collected under an Atomic rule, see Atomic).
	unrecorded bool

	accepted []*entry // set by apply: the messages that were not duplicates
}

func (o *sendOp) apply(tx *bbolt.Tx, now int64) error {
	qb, err := writeBuckets(tx, o.q.name)
	if err != nil {
		return err
	}
	if !o.unrecorded {
		if err := pruneIDs(qb, now-o.window, 2*len(o.msgs)+16); err != nil {
			return err
		}
	}
	c := o.q.qs.commits
	added := c.added[o.q]
	o.accepted = o.accepted[:0]
	for _, m := range o.msgs {
		if added[m.ID] || o.q.seen(qb, m.ID, now-o.window) {
			continue // a duplicate, possibly of an earlier message of this same call
		}
		seq, err := qb.queue.NextSequence()
		if err != nil {
			return err
		}
		e := &entry{seq: seq, id: m.ID, session: m.SessionID, enqueuedAt: now, notBefore: unixNano(m.NotBefore)}
		k := seqKey(seq)
		if err := putAll(put{qb.meta, k, encodeEntry(e, nil)}, put{qb.body, k, m.Body}); err != nil {
			return err
		}
		if !o.unrecorded {
			// Appended to the ID log only: the ID index, keyed by the client's IDs and so
			// written on random pages, takes the log's entries in bulk (mergeOp).
			if err := qb.idtime.Put(timeKey(now, m.ID), nil); err != nil {
				return err
			}
		}
		if added == nil {
			if c.added == nil {
				c.added = map[*queue]map[string]bool{}
			}
			added = map[string]bool{}
			c.added[o.q] = added
		}
		added[m.ID] = true
		o.accepted = append(o.accepted, e)
	}
	return nil
}

func (o *sendOp) size() int {
	n := 0
	for _, m := range o.msgs {
		n += len(m.Body) + recordOverhead
	}
	return n
}

func (o *sendOp) done(err error, now int64) {
	if err == nil && len(o.accepted) > 0 {
		o.q.mu.Lock()
		for _, e := range o.accepted {
			o.q.idx.add(e, now)
			if !o.unrecorded {
				o.q.recent[e.id] = now
			}
		}
		merge := len(o.q.recent) >= mergeIDsAt && !o.q.merging
		if merge {
			o.q.merging = true
		}
		o.q.mu.Unlock()
		o.q.notify()
		if merge {
			o.q.qs.commits.submit(&mergeOp{q: o.q})
		}
	}
	o.result <- err
}

// pruneIDs forgets up to limit message IDs accepted before cutoff. Each Send prunes about
// twice what it adds, so the ID buckets stay near "IDs of the last DuplicateWindow".
func pruneIDs(qb queueBuckets, cutoff int64, limit int) error {
	var expired [][]byte
	c := qb.idtime.Cursor()
	for k, _ := c.First(); k != nil && len(expired) < limit; k, _ = c.Next() {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k)) >= cutoff {
			break
		}
		expired = append(expired, append([]byte(nil), k...)) // keys die with the page on delete
	}
	for _, k := range expired {
		if err := qb.idtime.Delete(k); err != nil {
			return err
		}
		// Delete the ID only if it was not accepted again since (then its time is newer).
		if id := k[8:]; bytes.Equal(qb.ids.Get(id), k[:8]) {
			if err := qb.ids.Delete(id); err != nil {
				return err
			}
		}
	}
	return nil
}

// requeueOp moves dead letters back into the queue as new messages.
type requeueOp struct {
	q      *queue
	ids    map[string]bool
	result chan error

	moved []*entry // set by apply
}

func (o *requeueOp) apply(tx *bbolt.Tx, now int64) error {
	qb, err := writeBuckets(tx, o.q.name)
	if err != nil {
		return err
	}
	o.moved = o.moved[:0]
	type dead struct{ key, value []byte }
	var found []dead
	err = qb.dead.ForEach(func(k, v []byte) error {
		e, _, err := decodeEntry(seqOf(k), v)
		if err != nil {
			return err
		}
		if o.ids[e.id] {
			found = append(found, dead{append([]byte(nil), k...), append([]byte(nil), v...)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range found {
		old, body, _ := decodeEntry(seqOf(d.key), d.value) // decoded above already
		seq, err := qb.queue.NextSequence()
		if err != nil {
			return err
		}
		e := &entry{seq: seq, id: old.id, session: old.session, enqueuedAt: now}
		k := seqKey(seq)
		if err := putAll(put{qb.meta, k, encodeEntry(e, nil)}, put{qb.body, k, body}); err != nil {
			return err
		}
		if err := qb.dead.Delete(d.key); err != nil {
			return err
		}
		o.moved = append(o.moved, e)
	}
	return nil
}

func (o *requeueOp) size() int { return len(o.ids) * recordOverhead }

func (o *requeueOp) done(err error, now int64) {
	if err == nil && len(o.moved) > 0 {
		o.q.mu.Lock()
		for _, e := range o.moved {
			o.q.idx.add(e, now)
		}
		o.q.mu.Unlock()
		o.q.notify()
	}
	o.result <- err
}

// recordOverhead is a rough size of a message's keys and header, for commit bounds.
const recordOverhead = 128

func seqOf(k []byte) uint64 {
	if len(k) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

type put struct {
	b          *bbolt.Bucket
	key, value []byte
}

func putAll(puts ...put) error {
	for _, p := range puts {
		if err := p.b.Put(p.key, p.value); err != nil {
			return err
		}
	}
	return nil
}
