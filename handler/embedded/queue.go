package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// QueueOptions tune the durable queue. Zero values take the defaults, which mirror the Service
// Bus settings the app is deployed with closely enough that behaviour carries over.
type QueueOptions struct {
	// LockDuration is how long one handler call may hold a message; default 60 s. The
	// handler's ctx is cancelled after it, and the message counts as abandoned.
	LockDuration time.Duration
	// MaxDeliveries is how many failed deliveries dead-letter a message; default 50.
	MaxDeliveries int
	// DuplicateWindow: a Send of an ID accepted within this window is ignored; default 10 min.
	DuplicateWindow time.Duration
	// RetryBackoff is the delay after the n-th failed delivery; default 100ms·2^(n-1), capped
	// at 30 s, so that a storage outage of many minutes does not dead-letter everything.
	RetryBackoff func(deliveryCount int) time.Duration
	// Atomic, by consumed queue name, makes a handler's writes part of the transaction that
	// completes its message (see Atomic). Only for handlers built for it.
	Atomic map[string]Atomic
	// Logger receives handler panics, expired locks, dead letters and storage failures;
	// default slog.Default(). Message bodies are never logged.
	Logger *slog.Logger
}

const (
	defaultLockDuration    = 60 * time.Second
	defaultMaxDeliveries   = 50
	defaultDuplicateWindow = 10 * time.Minute
	maxRetryBackoff        = 30 * time.Second
	// maxQueueName is Service Bus's limit on queue names.
	maxQueueName = 260
)

func (o QueueOptions) withDefaults() QueueOptions {
	if o.LockDuration <= 0 {
		o.LockDuration = defaultLockDuration
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = defaultMaxDeliveries
	}
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = defaultDuplicateWindow
	}
	if o.RetryBackoff == nil {
		o.RetryBackoff = defaultRetryBackoff
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

func defaultRetryBackoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 20 { // 100ms·2^19 is far past the cap; stop before the shift overflows
		return maxRetryBackoff
	}
	return min(100*time.Millisecond<<(n-1), maxRetryBackoff)
}

// Queues is the embedded durable queue: every named queue lives in the DB's bbolt file, next
// to the tables, and is consumed in-process by Run. Its semantics are those Service Bus gives
// the app: durable Send (all or none), duplicate detection by message ID, scheduled
// messages, at-least-once delivery with a delivery count, dead letters after MaxDeliveries,
// and sessions handed out one message at a time in send order. handler/storetest holds it
// to them.
//
// Each queue keeps an in-memory index of its stored messages (everything but bodies), built
// from bbolt on first use, so receiving never scans the file. Writes from all senders and
// consumers are group-committed: one bbolt transaction, and so one fsync, carries every
// change that arrived while the previous one was being written.
//
// Queues is safe for concurrent use. Call DB.Queues once per DB and share the result: two
// Queues over one file would each index the same messages and deliver them twice.
type Queues struct {
	bolt    *bbolt.DB
	opts    QueueOptions
	log     *slog.Logger
	commits *committer

	mu     sync.Mutex
	byName map[string]*queue
}

var _ nimbus.Queues = (*Queues)(nil)

// Queues returns the queue store of the file, with opts filled in with the defaults.
func (d *DB) Queues(opts QueueOptions) *Queues {
	opts = opts.withDefaults()
	return &Queues{
		bolt:    d.bolt,
		opts:    opts,
		log:     opts.Logger,
		commits: &committer{bolt: d.bolt},
		byName:  map[string]*queue{},
	}
}

// Queue returns the named queue. The name is checked, and the queue read from the file, on
// first use: an invalid name makes Send fail with KindInvalid.
func (qs *Queues) Queue(name string) nimbus.Queue { return queueSender{qs: qs, name: name} }

// queue is one named queue: its index, guarded by mu, and the consumer's wake-up signal.
type queue struct {
	qs   *Queues
	name string

	loadMu sync.Mutex // held while the index is read from bbolt
	loaded bool

	mu        sync.Mutex
	idx       *index
	consuming bool          // a Run is active
	wake      chan struct{} // capacity 1: "the index changed", for Run
	// recent holds the IDs accepted (by time) that are not merged into the ID index yet,
	// and merging is set while a merge is submitted (queue_ids.go).
	recent  map[string]int64
	merging bool
}

// queue returns the named queue, reading its index from bbolt on first use.
func (qs *Queues) queue(name string) (*queue, error) {
	if name == "" || len(name) > maxQueueName {
		return nil, nimbus.Invalid("name", "a queue name must be 1 to %d bytes", maxQueueName)
	}
	qs.mu.Lock()
	q := qs.byName[name]
	if q == nil {
		q = &queue{qs: qs, name: name, wake: make(chan struct{}, 1)}
		qs.byName[name] = q
	}
	qs.mu.Unlock()

	q.loadMu.Lock()
	defer q.loadMu.Unlock()
	if q.loaded {
		return q, nil
	}
	idx, recent, err := q.read()
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	q.idx, q.recent = idx, recent
	q.mu.Unlock()
	q.loaded = true
	return q, nil
}

// read builds the index from the stored headers. Every message that was not completed is in
// it, including those that were in flight when the process died: that is the crash safety.
func (q *queue) read() (*index, map[string]int64, error) {
	now := time.Now().UnixNano()
	idx := newIndex()
	recent := map[string]int64{}
	err := q.qs.bolt.View(func(tx *bbolt.Tx) error {
		qb, ok := readBuckets(tx, q.name)
		if !ok {
			return nil
		}
		recent = loadRecent(qb, now-int64(q.qs.opts.DuplicateWindow))
		return qb.meta.ForEach(func(k, v []byte) error {
			e, _, err := decodeEntry(seqOf(k), v)
			if err != nil {
				return err
			}
			idx.load(e, now)
			return nil
		})
	})
	if err != nil {
		return nil, nil, storeError(fmt.Sprintf("open queue %q", q.name), err)
	}
	idx.placeHeads(now)
	return idx, recent, nil
}

// notify wakes the consumer, if any, without blocking.
func (q *queue) notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// queueSender is the nimbus.Queue of one name.
type queueSender struct {
	qs   *Queues
	name string
}

var _ nimbus.Queue = queueSender{}

// Send stores msgs in one transaction, then hands them to the consumer. A message whose ID
// was accepted within DuplicateWindow, earlier or in this very call, is dropped silently.
func (s queueSender) Send(ctx context.Context, msgs ...nimbus.Message) error {
	if err := ctx.Err(); err != nil {
		return nimbus.Unavailable("send", err)
	}
	if err := nimbus.CheckMessages(msgs); err != nil {
		return err
	}
	if len(msgs) == 0 {
		return nil
	}
	q, err := s.qs.queue(s.name)
	if err != nil {
		return err
	}
	if fx := effectsFor(ctx, s.qs.bolt); fx != nil && fx.collectSend(q, msgs) {
		return nil
	}
	o := &sendOp{q: q, msgs: msgs, window: int64(s.qs.opts.DuplicateWindow), result: make(chan error, 1)}
	s.qs.commits.submit(o)
	// The commit is not abandoned on ctx: once submitted it takes milliseconds, and a caller
	// told "failed" for messages that were in fact stored would only send them again.
	return storeError("send", <-o.result)
}

// Len returns the number of messages stored and not completed or dead-lettered, scheduled
// ones included; 0 for an invalid name or an unreadable file. For tests and metrics.
func (qs *Queues) Len(name string) int {
	q, err := qs.queue(name)
	if err != nil {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.idx.entries)
}

// DeadLetters lists the dead letters of a queue in the order they were first sent, each with
// the number of deliveries that failed.
func (qs *Queues) DeadLetters(ctx context.Context, name string) ([]nimbus.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, nimbus.Unavailable("list dead letters", err)
	}
	if _, err := qs.queue(name); err != nil {
		return nil, err
	}
	var out []nimbus.Message
	err := qs.bolt.View(func(tx *bbolt.Tx) error {
		qb, ok := readBuckets(tx, name)
		if !ok {
			return nil
		}
		return qb.dead.ForEach(func(k, v []byte) error {
			e, body, err := decodeEntry(seqOf(k), v)
			if err != nil {
				return err
			}
			m := e.message(append([]byte{}, body...))
			m.DeliveryCount = e.deliveries
			out = append(out, m)
			return nil
		})
	})
	if err != nil {
		return nil, storeError("list dead letters", err)
	}
	return out, nil
}

// Requeue moves the dead letters with the given IDs back into the queue and returns how many
// it moved. Like resubmitting from a Service Bus dead-letter queue, each comes back as a new
// message at the end of the queue (and of its session), due at once, with its delivery count
// reset; duplicate detection does not apply. Unknown IDs are ignored.
func (qs *Queues) Requeue(ctx context.Context, name string, ids []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, nimbus.Unavailable("requeue", err)
	}
	q, err := qs.queue(name)
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	o := &requeueOp{q: q, ids: make(map[string]bool, len(ids)), result: make(chan error, 1)}
	for _, id := range ids {
		o.ids[id] = true
	}
	qs.commits.submit(o)
	if err := <-o.result; err != nil {
		return 0, storeError("requeue", err)
	}
	return len(o.moved), nil
}
