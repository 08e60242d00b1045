package embedded

import (
	"bytes"
	"encoding/binary"

	"go.etcd.io/bbolt"
)

// Duplicate detection keeps every accepted ID for DuplicateWindow in two forms: the ID log
// (idtime/, time+id, appended in order by the Send's own transaction, so it costs the Send
// one write on the log's last page) and the ID index (ids/, id → time, for lookups). The
// index is keyed by the client's IDs, so writing it with each Send would dirty one random
// page per message, which measured as half of the queue's page writes. Instead a Send only
// appends to the log, and the log's newest entries are merged into the index in bulk, once
// mergeIDsAt of them are waiting: one transaction that writes each index page once for many
// IDs. Until then the queue remembers the waiting IDs in memory (queue.recent), rebuilt
// from the log at open, so a lookup is "merged into the index, or still waiting".
//
// The queue's bucket holds idsMergedKey: the log key up to which (inclusive) the index has
// every entry. A merge takes only entries of earlier transactions (time before its own), so
// an entry written later, even by the same transaction, always sorts after the mark.

// mergeIDsAt is how many waiting IDs start a merge. It bounds queue.recent (about 100 bytes
// an ID) and the size of a merge transaction.
const mergeIDsAt = 2048

var idsMergedKey = []byte("idsMerged")

// seen reports whether id was accepted after cutoff (unix nanoseconds): still waiting in
// memory, or in the ID index.
func (q *queue) seen(qb queueBuckets, id string, cutoff int64) bool {
	q.mu.Lock()
	t, ok := q.recent[id]
	q.mu.Unlock()
	if ok && t > cutoff {
		return true
	}
	v := qb.ids.Get([]byte(id))
	return len(v) == 8 && int64(binary.BigEndian.Uint64(v)) > cutoff
}

// loadRecent reads the IDs of the log after the mark that were accepted after cutoff.
func loadRecent(qb queueBuckets, cutoff int64) map[string]int64 {
	recent := map[string]int64{}
	mark := qb.queue.Get(idsMergedKey)
	c := qb.idtime.Cursor()
	k, _ := c.First()
	if mark != nil {
		k, _ = c.Seek(mark)
		if bytes.Equal(k, mark) {
			k, _ = c.Next()
		}
	}
	for ; k != nil; k, _ = c.Next() {
		if len(k) < 8 {
			continue
		}
		if t := int64(binary.BigEndian.Uint64(k)); t > cutoff {
			recent[string(k[8:])] = t
		}
	}
	return recent
}

// mergeOp moves the log entries after the mark into the ID index.
type mergeOp struct {
	q *queue

	mark []byte // set by apply: the new mark; nil when nothing was merged
}

func (o *mergeOp) apply(tx *bbolt.Tx, now int64) error {
	qb, err := writeBuckets(tx, o.q.name)
	if err != nil {
		return err
	}
	o.mark = nil
	c := qb.idtime.Cursor()
	k, _ := c.First()
	if old := qb.queue.Get(idsMergedKey); old != nil {
		k, _ = c.Seek(old)
		if bytes.Equal(k, old) {
			k, _ = c.Next()
		}
	}
	type idAt struct {
		id, at []byte
	}
	var batch []idAt
	for ; k != nil; k, _ = c.Next() {
		if len(k) < 8 {
			continue
		}
		if int64(binary.BigEndian.Uint64(k)) >= now {
			break // written by this transaction or a later one: the next merge takes it
		}
		batch = append(batch, idAt{id: bytes.Clone(k[8:]), at: bytes.Clone(k[:8])})
		o.mark = bytes.Clone(k)
	}
	if o.mark == nil {
		return nil
	}
	for _, e := range batch {
		if cur := qb.ids.Get(e.id); len(cur) == 8 && bytes.Compare(cur, e.at) >= 0 {
			continue // accepted again since (a newer time is kept)
		}
		if err := qb.ids.Put(e.id, e.at); err != nil {
			return err
		}
	}
	return qb.queue.Put(idsMergedKey, o.mark)
}

func (o *mergeOp) size() int { return mergeIDsAt * 32 }

// done forgets, in memory, the IDs the index now has.
func (o *mergeOp) done(err error, now int64) {
	q := o.q
	q.mu.Lock()
	defer q.mu.Unlock()
	q.merging = false
	if err != nil {
		q.qs.log.Error("queue IDs not merged; retried with the next send", "queue", q.name, "error", err)
		return
	}
	if o.mark == nil {
		return
	}
	markTime := int64(binary.BigEndian.Uint64(o.mark))
	cutoff := now - int64(q.qs.opts.DuplicateWindow)
	for id, t := range q.recent {
		// Entries up to the mark are in the index; entries that expired are no one's concern.
		if t < markTime || (t == markTime && id <= string(o.mark[8:])) || t <= cutoff {
			delete(q.recent, id)
		}
	}
}
