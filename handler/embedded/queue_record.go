package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// Layout of the durable queue in the bbolt file:
//
//	queues/                   top-level bucket of the queue store
//	  <name>/                 one bucket per queue; its bbolt sequence numbers the messages
//	    meta/   seq → header  every stored message that is not completed or dead
//	    body/   seq → body    kept apart so that an abandon rewrites a few bytes, and opening
//	                          the queue reads headers only
//	    dead/   seq → header+body  dead letters
//	    idtime/ time+id → ""  duplicate detection's log: every accepted id, appended in
//	                          time order by its Send; expired ids are pruned from the front
//	    ids/    id → time     its index: when the id was last accepted, for the log's
//	                          entries up to the mark idsMerged (queue_ids.go)
//	    idsMerged (a key)     the last log key merged into ids/
//
// seq is 8 bytes big-endian, so bbolt's key order is send order, and time is unix
// nanoseconds as 8 bytes big-endian.
var (
	bucketQueues = []byte("queues")
	bucketMeta   = []byte("meta")
	bucketBody   = []byte("body")
	bucketDead   = []byte("dead")
	bucketIDs    = []byte("ids")
	bucketIDTime = []byte("idtime")
)

// queueBuckets are the sub-buckets of one queue inside one transaction.
type queueBuckets struct {
	queue, meta, body, dead, ids, idtime *bbolt.Bucket
}

// writeBuckets opens (creating on first use) the buckets of queue name.
func writeBuckets(tx *bbolt.Tx, name string) (queueBuckets, error) {
	var qb queueBuckets
	root, err := tx.CreateBucketIfNotExists(bucketQueues)
	if err != nil {
		return qb, fmt.Errorf("create queue store: %w", err)
	}
	if qb.queue, err = root.CreateBucketIfNotExists([]byte(name)); err != nil {
		return qb, fmt.Errorf("create queue %q: %w", name, err)
	}
	for _, sub := range []struct {
		b    **bbolt.Bucket
		name []byte
	}{{&qb.meta, bucketMeta}, {&qb.body, bucketBody}, {&qb.dead, bucketDead}, {&qb.ids, bucketIDs}, {&qb.idtime, bucketIDTime}} {
		if *sub.b, err = qb.queue.CreateBucketIfNotExists(sub.name); err != nil {
			return qb, fmt.Errorf("create queue %q: %w", name, err)
		}
	}
	// Messages are appended at the end and removed from the front: full pages waste nothing.
	qb.meta.FillPercent, qb.body.FillPercent = 0.95, 0.95
	return qb, nil
}

// readBuckets returns the buckets of queue name, or ok=false when it was never written.
func readBuckets(tx *bbolt.Tx, name string) (qb queueBuckets, ok bool) {
	root := tx.Bucket(bucketQueues)
	if root == nil {
		return qb, false
	}
	if qb.queue = root.Bucket([]byte(name)); qb.queue == nil {
		return qb, false
	}
	qb.meta, qb.body, qb.dead = qb.queue.Bucket(bucketMeta), qb.queue.Bucket(bucketBody), qb.queue.Bucket(bucketDead)
	qb.ids, qb.idtime = qb.queue.Bucket(bucketIDs), qb.queue.Bucket(bucketIDTime)
	return qb, true
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq) }

func timeKey(t int64, id string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), uint64(t))
	return append(k, id...)
}

// A record is a format byte, the delivery count, the enqueue, not-before and available-at
// times (varints), the id and session id (length-prefixed), then the body (meta records end
// before it; dead letters carry it).
const queueRecordFormat = 1

func encodeEntry(e *entry, body []byte) []byte {
	v := make([]byte, 0, 1+5*binary.MaxVarintLen64+len(e.id)+len(e.session)+len(body))
	v = append(v, queueRecordFormat)
	v = binary.AppendUvarint(v, uint64(e.deliveries))
	v = binary.AppendVarint(v, e.enqueuedAt)
	v = binary.AppendVarint(v, e.notBefore)
	v = binary.AppendVarint(v, e.availableAt)
	v = binary.AppendUvarint(v, uint64(len(e.id)))
	v = append(v, e.id...)
	v = binary.AppendUvarint(v, uint64(len(e.session)))
	v = append(v, e.session...)
	return append(v, body...)
}

var errMalformed = errors.New("malformed queue record")

// decodeEntry returns the entry and what follows its header (the body of a dead letter),
// which aliases v: copy it before the transaction ends.
func decodeEntry(seq uint64, v []byte) (*entry, []byte, error) {
	if len(v) == 0 || v[0] != queueRecordFormat {
		return nil, nil, fmt.Errorf("message %d: %w", seq, errMalformed)
	}
	r := recordReader{rest: v[1:]}
	e := &entry{seq: seq}
	e.deliveries = int(r.uvarint())
	e.enqueuedAt = r.varint()
	e.notBefore = r.varint()
	e.availableAt = r.varint()
	e.id = r.str()
	e.session = r.str()
	if r.bad {
		return nil, nil, fmt.Errorf("message %d: %w", seq, errMalformed)
	}
	return e, r.rest, nil
}

// recordReader decodes a record front to back; any short or malformed field sets bad.
type recordReader struct {
	rest []byte
	bad  bool
}

func (r *recordReader) uvarint() uint64 {
	x, n := binary.Uvarint(r.rest)
	if n <= 0 {
		r.bad, r.rest = true, nil
		return 0
	}
	r.rest = r.rest[n:]
	return x
}

func (r *recordReader) varint() int64 {
	x, n := binary.Varint(r.rest)
	if n <= 0 {
		r.bad, r.rest = true, nil
		return 0
	}
	r.rest = r.rest[n:]
	return x
}

func (r *recordReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.rest)) {
		r.bad, r.rest = true, nil
		return ""
	}
	s := string(r.rest[:n])
	r.rest = r.rest[n:]
	return s
}
