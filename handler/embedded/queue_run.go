package embedded

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/nimbusflow/connector/handler/nimbus"
)

var (
	errLockExpired = errors.New("handler held the message past the lock duration")
	errNoBody      = errors.New("message body missing from the store")
)

// Run consumes the named queue with h, running up to concurrency handler calls at once, until
// ctx is done. Then it stops handing out messages, waits for the calls in flight to finish
// (each at most LockDuration) and for their outcome to be written, and returns nil.
//
// Handlers get a context that carries ctx's values but not its cancellation, so that a
// shutdown lets in-flight work (a webhook call) finish; it is cancelled when the lock
// expires. A handler still running then has lost the message: it is abandoned and handed out
// again, and whatever the handler returns later is ignored, as Service Bus ignores a
// settlement after the lock is lost.
//
// One Run per queue name at a time (KindConflict otherwise); Runs of different queues are
// independent. Run returns a KindUnavailable error when the file was closed under it.
func (qs *Queues) Run(ctx context.Context, name string, h nimbus.Handler, concurrency int) error {
	if h == nil {
		return nimbus.Invalid("handler", "a handler is required")
	}
	if concurrency < 1 {
		return nimbus.Invalid("concurrency", "concurrency must be at least 1, got %d", concurrency)
	}
	q, err := qs.queue(name)
	if err != nil {
		return err
	}
	q.mu.Lock()
	if q.consuming {
		q.mu.Unlock()
		return nimbus.Conflict("queue %q is already being consumed", name)
	}
	q.consuming = true
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		q.consuming = false
		q.mu.Unlock()
	}()
	r := &runner{q: q, h: h, ctx: ctx, concurrency: concurrency}
	return r.run()
}

// runner is one Run. Its counters are guarded by q.mu.
type runner struct {
	q           *queue
	h           nimbus.Handler
	ctx         context.Context
	concurrency int

	inflight int   // handler calls not yet settled; at most concurrency
	fatal    error // set when the file is closed: stop and report

	settling sync.WaitGroup // deliveries whose outcome is not yet written
}

// delivery is one hand-out of an entry, with a copy of its fields taken at hand-out.
type delivery struct {
	e    *entry
	rec  entry
	body []byte // set once read, so a dead letter can be forwarded with it
}

func (r *runner) run() error {
	q := r.q
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		q.mu.Lock()
		if r.fatal != nil || r.ctx.Err() != nil {
			q.mu.Unlock()
			return r.drain()
		}
		now := time.Now().UnixNano()
		next := q.idx.promote(now)
		var out []delivery
		for r.inflight < r.concurrency {
			e := q.idx.take()
			if e == nil {
				break
			}
			r.inflight++
			out = append(out, delivery{e: e, rec: *e})
		}
		q.mu.Unlock()

		for _, d := range out {
			r.settling.Add(1)
			go r.deliver(d)
		}
		if next != 0 {
			timer.Reset(time.Duration(next - now))
		} else {
			timer.Stop()
		}
		select {
		case <-r.ctx.Done():
			return r.drain()
		case <-q.wake: // sent, settled or requeued
		case <-timer.C: // a scheduled or backed-off message is due
		}
	}
}

// drain waits until every delivery handed out is settled and written.
func (r *runner) drain() error {
	r.settling.Wait()
	r.q.mu.Lock()
	defer r.q.mu.Unlock()
	return r.fatal
}

// deliver runs the handler for one message and settles it exactly once: with the handler's
// result, or as abandoned when the lock expires first.
func (r *runner) deliver(d delivery) {
	body, err := r.q.readBody(d.rec.seq)
	switch {
	case errors.Is(err, errNoBody):
		// Cannot happen unless the file was damaged; dead-letter rather than block the queue.
		r.q.qs.log.Error("queue message has no body", "queue", r.q.name, "messageId", d.rec.id)
		r.settle(d, err, true)
		return
	case err != nil:
		r.settle(d, err, false)
		return
	}
	d.body = body
	msg := d.rec.message(body)
	hctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), r.q.qs.opts.LockDuration)
	defer cancel()
	var claimed atomic.Bool
	stop := context.AfterFunc(hctx, func() {
		if claimed.CompareAndSwap(false, true) {
			r.q.qs.log.Warn("queue lock expired", "queue", r.q.name, "messageId", msg.ID, "deliveryCount", msg.DeliveryCount)
			r.settle(d, errLockExpired, false)
		}
	})
	err = r.call(hctx, msg)
	stop()
	if claimed.CompareAndSwap(false, true) {
		r.settle(d, err, false)
	}
}

// call runs the handler, turning a panic into an error: one bad message must not take the
// process, and with it every other queue, down.
func (r *runner) call(ctx context.Context, m nimbus.Message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.q.qs.log.Error("queue handler panicked", "queue", r.q.name, "messageId", m.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return r.h(ctx, m)
}

// settle frees the handler slot at once and writes the outcome through the group commit: the
// message stays in flight (and its session blocked) until that is durable.
func (r *runner) settle(d delivery, herr error, dead bool) {
	q := r.q
	q.mu.Lock()
	r.inflight--
	q.mu.Unlock()
	q.notify()

	o := &settleOp{r: r, e: d.e, rec: d.rec, kind: settleComplete}
	if herr != nil {
		o.rec.deliveries++
		switch {
		case dead || o.rec.deliveries >= q.qs.opts.MaxDeliveries:
			o.kind = settleDead
			q.qs.log.Warn("queue message dead-lettered", "queue", q.name, "messageId", d.rec.id, "deliveryCount", o.rec.deliveries, "error", herr)
			q.forwardDeadLetter(d)
		default:
			o.kind = settleAbandon
			o.rec.availableAt = time.Now().Add(q.qs.backoff(o.rec.deliveries)).UnixNano()
			q.qs.log.Debug("queue message abandoned", "queue", q.name, "messageId", d.rec.id, "deliveryCount", o.rec.deliveries, "error", herr)
		}
	}
	q.qs.commits.submit(o)
}

// forwardDeadLetter also sends a message being dead-lettered to the queue's dead-letter
// sub-queue (nimbus.DeadLetterQueue), as Service Bus moves it there, so a consumer of that
// path sees it. The send is submitted before the settlement, so the committer writes it first
// (in the same transaction or an earlier one): a crash in between redelivers the message,
// and duplicate detection keeps the second forward out. The dead-letter sub-queue itself has
// none.
func (q *queue) forwardDeadLetter(d delivery) {
	if d.body == nil || strings.HasSuffix(q.name, nimbus.DeadLetterSuffix) {
		return
	}
	dq, err := q.qs.queue(nimbus.DeadLetterQueue(q.name))
	if err != nil {
		q.qs.log.Error("dead letter not forwarded", "queue", q.name, "messageId", d.rec.id, "error", err)
		return
	}
	m := nimbus.Message{ID: d.rec.id, SessionID: d.rec.session, Body: d.body}
	o := &sendOp{q: dq, msgs: []nimbus.Message{m}, window: int64(q.qs.opts.DuplicateWindow), result: make(chan error, 1)}
	q.qs.commits.submit(o)
}

func (qs *Queues) backoff(n int) time.Duration { return max(qs.opts.RetryBackoff(n), 0) }

type settleKind uint8

const (
	settleComplete settleKind = iota + 1 // remove the message
	settleAbandon                        // count the delivery, back off, keep the message
	settleDead                           // move the message to the dead letters
)

// settleOp writes the outcome of one delivery.
type settleOp struct {
	r    *runner
	e    *entry
	rec  entry // the entry as it is to be stored
	kind settleKind
}

func (o *settleOp) apply(tx *bbolt.Tx, _ int64) error {
	qb, err := writeBuckets(tx, o.r.q.name)
	if err != nil {
		return err
	}
	k := seqKey(o.rec.seq)
	switch o.kind {
	case settleAbandon:
		return qb.meta.Put(k, encodeEntry(&o.rec, nil))
	case settleDead:
		if err := qb.dead.Put(k, encodeEntry(&o.rec, qb.body.Get(k))); err != nil {
			return err
		}
	}
	if err := qb.meta.Delete(k); err != nil {
		return err
	}
	return qb.body.Delete(k)
}

func (o *settleOp) size() int { return recordOverhead }

func (o *settleOp) done(err error, now int64) {
	q := o.r.q
	q.mu.Lock()
	switch {
	case err != nil:
		// Nothing was written: the message is still stored, so it is delivered again after a
		// backoff (this delivery counts, in memory). A closed file ends the Run.
		o.e.deliveries = o.rec.deliveries
		if o.kind == settleComplete {
			o.e.deliveries++
		}
		o.e.availableAt = time.Now().Add(q.qs.backoff(o.e.deliveries)).UnixNano()
		q.idx.release(o.e, now)
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			if o.r.fatal == nil {
				o.r.fatal = nimbus.Unavailable(fmt.Sprintf("consume queue %q", q.name), err)
			}
		} else {
			q.qs.log.Error("queue settlement not stored", "queue", q.name, "messageId", o.rec.id, "error", err)
		}
	case o.kind == settleAbandon:
		o.e.deliveries, o.e.availableAt = o.rec.deliveries, o.rec.availableAt
		q.idx.release(o.e, now)
	default:
		q.idx.remove(o.e, now)
	}
	q.mu.Unlock()
	q.notify()
	o.r.settling.Done()
}

// readBody copies the body of a stored message out of bbolt.
func (q *queue) readBody(seq uint64) ([]byte, error) {
	var body []byte
	err := q.qs.bolt.View(func(tx *bbolt.Tx) error {
		qb, ok := readBuckets(tx, q.name)
		k := seqKey(seq)
		if !ok || qb.meta.Get(k) == nil {
			return errNoBody
		}
		body = append([]byte{}, qb.body.Get(k)...)
		return nil
	})
	return body, err
}
