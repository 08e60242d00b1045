package app

import (
	"fmt"
	"testing"
	"time"
)

func TestSlotsShrinkOnTimeoutsAndRecover(t *testing.T) {
	s := newSlots(4, 50*time.Millisecond, time.Now)
	var held []*slot
	for range 4 {
		sl, _ := s.acquire(t.Context(), "slow", false)
		if sl == nil {
			t.Fatal("a free slot was refused")
		}
		held = append(held, sl)
	}
	// Full, healthy, duration unknown: the worker waits briefly, then puts the delivery off.
	if sl, wait := s.acquire(t.Context(), "slow", false); sl != nil || wait < minPutOff {
		t.Fatalf("fifth acquire: slot %v, put off %v; want none, at least %v", sl != nil, wait, minPutOff)
	}
	held[0].done(true, true)
	held[1].done(true, true)
	if got := s.subs["slow"].limit; got != 1 {
		t.Fatalf("after two timeouts: %d slots, want 1", got)
	}
	// Timing out: no worker waits for it at all, and it waits longer with every timeout.
	began := time.Now()
	sl, wait := s.acquire(t.Context(), "slow", false)
	if sl != nil || time.Since(began) > 40*time.Millisecond {
		t.Fatalf("a subscription that times out: slot %v after %v, want none at once", sl != nil, time.Since(began))
	}
	if wait < 2*minPutOff {
		t.Errorf("put off %v after two timeouts, want at least %v", wait, 2*minPutOff)
	}
	// Another subscription keeps all of its slots.
	for i := range 4 {
		if sl, _ := s.acquire(t.Context(), "healthy", false); sl == nil {
			t.Fatalf("healthy subscription: slot %d refused", i+1)
		}
	}
	held[2].done(true, false) // an answer gives a slot back and ends the streak
	held[3].done(true, false)
	if sub := s.subs["slow"]; sub.limit != 3 || sub.timeouts != 0 || sub.inFlight != 0 {
		t.Errorf("after two answers: limit %d, timeouts %d, in flight %d; want 3, 0, 0", sub.limit, sub.timeouts, sub.inFlight)
	}
}

func TestSlotsHandOverToAWaiter(t *testing.T) {
	s := newSlots(1, 5*time.Second, time.Now)
	first, _ := s.acquire(t.Context(), "sub", false)
	got := make(chan *slot)
	go func() {
		sl, _ := s.acquire(t.Context(), "sub", false)
		got <- sl
	}()
	for {
		s.mu.Lock()
		n := len(s.subs["sub"].waiters)
		s.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	first.done(true, false)
	select {
	case sl := <-got:
		if sl == nil {
			t.Fatal("the waiter got no slot")
		}
		sl.done(true, false)
	case <-time.After(2 * time.Second):
		t.Fatal("the waiter was not handed the freed slot")
	}
	if sub := s.subs["sub"]; sub.inFlight != 0 || len(sub.waiters) != 0 {
		t.Errorf("after both: in flight %d, waiters %d", sub.inFlight, len(sub.waiters))
	}
}

func TestSlotsPutOffIsBounded(t *testing.T) {
	sub := &subSlots{limit: 1, timeouts: 20, latency: time.Hour}
	if got := sub.putOff(time.Now()); got != maxPutOff {
		t.Errorf("put off %v, want the cap %v", got, maxPutOff)
	}
	sub = &subSlots{limit: 4, latency: 10 * time.Millisecond}
	if got := sub.putOff(time.Now()); got != minPutOff {
		t.Errorf("put off %v, want the floor %v", got, minPutOff)
	}
}

func TestLinesKeepPutOffDeliveriesInOrder(t *testing.T) {
	ls := newLines()
	now := time.Now()
	if !ls.turn("s", "d1", now) {
		t.Fatal("no line: d1 must go ahead")
	}
	ls.join("s", "d1", now, now.Add(time.Second)) // d1 found no slot
	if ls.turn("s", "d2", now) {
		t.Fatal("d2 overtook d1, which was put off")
	}
	ls.join("s", "d2", now, now.Add(time.Second))
	if ls.turn("s", "d2", now.Add(time.Second)) || !ls.turn("s", "d1", now.Add(time.Second)) {
		t.Fatal("d1 must go first")
	}
	if !ls.turn("other", "x", now) {
		t.Error("another session waited for this one")
	}
	ls.leave("s", "d1")
	if !ls.turn("s", "d2", now.Add(time.Second)) {
		t.Fatal("d2 must go once d1 was attempted")
	}
	ls.leave("s", "d2")
	if len(ls.m) != 0 {
		t.Errorf("lines left after everything went: %d", len(ls.m))
	}

	// A place lapses when its delivery does not come back.
	ls.join("s", "lost", now, now.Add(time.Second))
	if ls.turn("s", "d3", now.Add(time.Second)) {
		t.Fatal("d3 overtook a put-off delivery before its place lapsed")
	}
	if !ls.turn("s", "d3", now.Add(time.Second+lineGrace+time.Millisecond)) {
		t.Fatal("a lapsed place still holds the line")
	}
}

// Before its first timeout, a callback that has begun to hang is not waited for either: its
// oldest attempt has already run longer than a worker would wait.
func TestSlotsDoNotWaitForAnAttemptThatHangs(t *testing.T) {
	now := time.Now()
	s := newSlots(1, time.Second, func() time.Time { return now })
	if sl, _ := s.acquire(t.Context(), "sub", false); sl == nil {
		t.Fatal("a free slot was refused")
	}
	now = now.Add(3 * time.Second)
	began := time.Now()
	sl, wait := s.acquire(t.Context(), "sub", false)
	if sl != nil || time.Since(began) > 500*time.Millisecond {
		t.Fatalf("slot %v after %v, want none at once", sl != nil, time.Since(began))
	}
	if wait < 3*time.Second {
		t.Errorf("put off %v, want at least the 3 s the attempt has been running", wait)
	}
}

// A long backlog of put-off deliveries comes back at about the pace the subscription can
// take them, not every few seconds each.
func TestSlotsPutOffFollowsTheBacklog(t *testing.T) {
	now := time.Now()
	s := newSlots(1, time.Second, func() time.Time { return now })
	sl, _ := s.acquire(t.Context(), "sub", false)
	now = now.Add(30 * time.Second)
	sl.done(true, true) // a 30 s timeout
	for range 10 {
		s.off("sub")
	}
	if got, want := s.estimate("sub"), 10*30*time.Second; got != want {
		t.Errorf("10 put off behind a 30 s attempt: put off %v, want %v", got, want)
	}
	for range 200 {
		s.off("sub")
	}
	if got := s.estimate("sub"); got != maxBacklogPutOff {
		t.Errorf("210 put off: %v, want the cap %v", got, maxBacklogPutOff)
	}
	for range 210 {
		s.back("sub")
	}
	s.back("sub") // one more than went off (another instance's): no harm
	if got := s.estimate("sub"); got != 30*time.Second {
		t.Errorf("all back: put off %v, want one attempt's time, 30 s", got)
	}
}

// estimate is how long a delivery of the subscription that found no slot would be put off
// (see putOff); minPutOff for a subscription without a record.
func (s *slots) estimate(key string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.subs[key]; sub != nil {
		return sub.putOff(s.now())
	}
	return minPutOff
}

// A delivery back from a put-off gets the next free slot before the deliveries waiting for
// their first try: its task's later deliveries wait behind it.
func TestSlotsReturningDeliveryGoesFirst(t *testing.T) {
	s := newSlots(1, 5*time.Second, time.Now)
	busy, _ := s.acquire(t.Context(), "sub", false)
	got := make(chan string, 2)
	for _, returning := range []bool{false, true} {
		go func() {
			if sl, _ := s.acquire(t.Context(), "sub", returning); sl != nil {
				got <- fmt.Sprint(returning)
				sl.done(true, false)
			}
		}()
		want := 1
		if returning {
			want = 2
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			s.mu.Lock()
			n := len(s.subs["sub"].waiters)
			s.mu.Unlock()
			if n == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d waiting, want %d", n, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	busy.done(true, false)
	if first, second := <-got, <-got; first != "true" || second != "false" {
		t.Errorf("slots went to returning=%s then returning=%s, want the returning delivery first", first, second)
	}
}

// A delivery behind put-off ones of its session comes back no earlier than the latest of
// them.
func TestLinesAheadIsTheLatestDueBefore(t *testing.T) {
	ls := newLines()
	now := time.Now()
	ls.join("s", "a", now, now.Add(3*time.Second))
	ls.join("s", "b", now, now.Add(2*time.Second))
	ls.join("s", "c", now, now.Add(time.Second))
	if due, ok := ls.ahead("s", "c"); !ok || !due.Equal(now.Add(3*time.Second)) {
		t.Errorf("ahead of c: %v %v, want the 3 s of a", due.Sub(now), ok)
	}
	if _, ok := ls.ahead("s", "a"); ok {
		t.Error("something ahead of the first in line")
	}
	if due, ok := ls.ahead("s", "new"); !ok || !due.Equal(now.Add(3*time.Second)) {
		t.Errorf("ahead of a newcomer: %v %v, want 3 s", due.Sub(now), ok)
	}
	if _, ok := ls.ahead("other", "x"); ok {
		t.Error("something ahead in a session without a line")
	}
}
