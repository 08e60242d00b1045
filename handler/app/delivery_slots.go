package app

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Defaults of DeliveryLimits (SPEC 4.4 "Fairness").
const (
	DefaultMaxPerSubscription = 4
	// defaultSlotWait is the longest a worker waits for a free slot of a healthy subscription
	// before it puts the delivery off; a subscription whose slots are not expected to free up
	// that soon is not waited for at all.
	defaultSlotWait = time.Second
)

// Bounds of the delay of a delivery put off because its subscription (or its callback host)
// had no free slot. Healthy subscriptions are tried again after about the time their slots
// take to free up; one whose attempts keep timing out waits longer with every timeout (up to
// maxPutOff). With many deliveries put off, each comes back about when those before it have
// had their turn (up to maxBacklogPutOff), so a long backlog of a slow subscription costs the
// queue about as many put-offs as the subscription has attempts, not one per delivery every
// few seconds.
const (
	minPutOff        = time.Second
	maxPutOff        = 30 * time.Second
	maxBacklogPutOff = 15 * time.Minute
)

// slotIdle is how long a subscription's record (its latency and timeouts) is kept after its
// last attempt.
const slotIdle = 10 * time.Minute

// slots limits the attempts in flight per subscription: the unit of isolation, since the
// callbacks of many flows share a few hosts (SPEC 4.4 "Fairness"). Each subscription has up
// to max slots. A timed-out attempt halves that subscription's slots (down to one) and every
// answered attempt gives one back, so a subscription whose callback hangs is slowed down
// without touching the slots of any other. A worker waits for a slot only when the
// subscription is healthy and a slot is expected within wait; otherwise the delivery is put
// off and the worker moves on, so no worker sits waiting for a slow subscription.
//
// Slots are per process: under the Functions host each instance has its own. Safe for
// concurrent use.
type slots struct {
	max  int
	wait time.Duration
	now  func() time.Time

	mu   sync.Mutex
	subs map[string]*subSlots // by tenant|subscription
	gc   time.Time            // last sweep of idle records
}

// subSlots is one subscription's share.
type subSlots struct {
	limit    int // max, or fewer after timeouts
	inFlight int
	started  []time.Time   // when each attempt in flight took its slot
	waiters  []*slotWaiter // FIFO, except that those back from a put-off go first
	firsts   int           // how many of waiters are back from a put-off (at the front)
	putOffs  int           // deliveries put off and not yet back (in this process)
	timeouts int           // consecutive timed-out attempts
	latency  time.Duration // moving average of attempt durations; 0 until one is known
	used     time.Time     // last acquire or release
}

type slotWaiter struct {
	ready   chan struct{}
	first   bool      // back from a put-off: waits ahead of the others
	granted time.Time // when it was handed a slot; zero until then
}

func newSlots(max int, wait time.Duration, now func() time.Time) *slots {
	return &slots{max: max, wait: wait, now: now, subs: map[string]*subSlots{}}
}

// slot is one acquired slot; done must be called once with the attempt it was used for.
type slot struct {
	s     *slots
	key   string
	start time.Time
	// slow is set when the subscription is being slowed down: its attempt should take a slot
	// from the slow share of the host.
	slow bool
}

// acquire takes a slot of the subscription key, waiting for one only as described on slots.
// When none is taken it returns nil and how long the delivery should be put off. A delivery
// back from a put-off (returning) goes ahead of the deliveries waiting for their first try:
// it already had its wait, and the deliveries of its task queued behind it wait for it, so
// putting it off again would send all of them round the queue once more.
func (s *slots) acquire(ctx context.Context, key string, returning bool) (*slot, time.Duration) {
	s.mu.Lock()
	now := s.now()
	s.sweep(now)
	sub := s.subs[key]
	if sub == nil {
		sub = &subSlots{limit: s.max}
		s.subs[key] = sub
	}
	sub.used = now
	ahead := len(sub.waiters)
	if returning {
		ahead = sub.firsts
	}
	if sub.inFlight < sub.limit && ahead == 0 {
		sub.take(now)
		s.mu.Unlock()
		return &slot{s: s, key: key, start: now, slow: sub.timeouts > 0}, 0
	}
	if sub.timeouts > 0 || sub.waitBehind(now, ahead) > s.wait {
		d := sub.putOff(now)
		s.mu.Unlock()
		return nil, d
	}
	w := &slotWaiter{ready: make(chan struct{}), first: returning}
	if returning {
		sub.waiters = slices.Insert(sub.waiters, sub.firsts, w)
		sub.firsts++
	} else {
		sub.waiters = append(sub.waiters, w)
	}
	s.mu.Unlock()

	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case <-w.ready:
	case <-t.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !w.granted.IsZero() {
		return &slot{s: s, key: key, start: w.granted, slow: sub.timeouts > 0}, 0
	}
	if i := slices.Index(sub.waiters, w); i >= 0 {
		sub.waiters = slices.Delete(sub.waiters, i, i+1)
		sub.dropWaiter(w)
	}
	return nil, sub.putOff(s.now())
}

// take counts one more attempt in flight, started at now. Called with s.mu held.
func (sub *subSlots) take(now time.Time) {
	sub.inFlight++
	sub.started = append(sub.started, now)
}

// attemptTime estimates how long an attempt holds a slot: the usual duration, or longer when
// the oldest attempt in flight has run longer than that (a callback that has begun to hang,
// before its first timeout). 0 when nothing is known yet. Called with s.mu held.
func (sub *subSlots) attemptTime(now time.Time) time.Duration {
	d := sub.latency
	for _, t := range sub.started {
		d = max(d, now.Sub(t))
	}
	return d
}

// expectedWait estimates how long a new waiter would wait for a slot behind all the waiters.
// Called with s.mu held.
func (sub *subSlots) expectedWait(now time.Time) time.Duration {
	return sub.waitBehind(now, len(sub.waiters))
}

// waitBehind estimates how long a waiter with ahead waiters before it would wait for a slot:
// an attempt's time per round of slots ahead of it. Called with s.mu held.
func (sub *subSlots) waitBehind(now time.Time, ahead int) time.Duration {
	return sub.attemptTime(now) * time.Duration(ahead/sub.limit+1)
}

// dropWaiter counts a waiter out of the front group when it was one of it. Called with s.mu
// held, after w left waiters.
func (sub *subSlots) dropWaiter(w *slotWaiter) {
	if w.first {
		sub.firsts--
	}
}

// putOff is how long a delivery that found no slot is put off: about the time the slots need
// to free up, doubling with every consecutive timeout, or the time the deliveries put off
// before it need, whichever is longer. Called with s.mu held.
func (sub *subSlots) putOff(now time.Time) time.Duration {
	d := max(sub.expectedWait(now), minPutOff)
	for i := 1; i < sub.timeouts && d < maxPutOff; i++ {
		d *= 2
	}
	backlog := sub.attemptTime(now) * time.Duration((sub.putOffs+sub.inFlight)/sub.limit)
	return max(min(d, maxPutOff), min(backlog, maxBacklogPutOff))
}

// done returns the slot after an attempt. timedOut says whether the receiver failed to
// answer in time; attempted is false when the slot was not used (no attempt was made).
func (sl *slot) done(attempted, timedOut bool) {
	s := sl.s
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	sub := s.subs[sl.key]
	sub.inFlight--
	if i := slices.Index(sub.started, sl.start); i >= 0 {
		sub.started = slices.Delete(sub.started, i, i+1)
	}
	sub.used = now
	if attempted {
		took := now.Sub(sl.start)
		if sub.latency == 0 {
			sub.latency = took
		} else {
			sub.latency = (4*sub.latency + took) / 5
		}
		if timedOut {
			sub.timeouts++
			sub.limit = max(sub.limit/2, 1)
		} else {
			sub.timeouts = 0
			sub.limit = min(sub.limit+1, s.max)
		}
	}
	for len(sub.waiters) > 0 && sub.inFlight < sub.limit {
		w := sub.waiters[0]
		sub.waiters = sub.waiters[1:]
		sub.dropWaiter(w)
		w.granted = now
		sub.take(now)
		close(w.ready)
	}
}

// sweep drops the records of subscriptions idle for slotIdle, at most once a minute. Called
// with s.mu held.
func (s *slots) sweep(now time.Time) {
	if now.Sub(s.gc) < time.Minute {
		return
	}
	s.gc = now
	for key, sub := range s.subs {
		if sub.inFlight == 0 && len(sub.waiters) == 0 && now.Sub(sub.used) > slotIdle {
			delete(s.subs, key)
		}
	}
}

// off counts a delivery of the subscription key put off; back counts one that came back.
func (s *slots) off(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subs[key]
	if sub == nil {
		sub = &subSlots{limit: s.max}
		s.subs[key] = sub
	}
	sub.putOffs++
	sub.used = s.now()
}

func (s *slots) back(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.subs[key]; sub != nil && sub.putOffs > 0 {
		sub.putOffs--
	}
}
