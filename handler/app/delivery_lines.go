package app

import (
	"slices"
	"sync"
	"time"
)

// lineGrace is how long past its due time a put-off delivery keeps its place in line. A
// delivery that does not come back by then (handled by another instance, or removed) stops
// holding up the deliveries behind it.
const lineGrace = 2 * time.Minute

// lines keeps the order of deliveries that were put off. The deliveries queue hands out the
// deliveries of one task to one subscription (one session) one at a time and in order, but a
// delivery put off for lack of a slot goes back to the queue as a new scheduled message, and
// the later deliveries of its session would overtake it. So each put-off delivery takes a
// place in its session's line, and a delivery of that session goes ahead only when it is
// first in line (or there is no line); the others are put off again behind it (SPEC 4.4
// "Order").
//
// Lines are per process: under the Functions host with several instances, a put-off delivery
// taken by another instance holds its place here only until lineGrace has passed. Safe for
// concurrent use.
type lines struct {
	mu sync.Mutex
	m  map[string]*line // by session
	gc time.Time        // last sweep of lapsed places
}

type line struct {
	ids   []string    // webhook ids, first in line first
	until []time.Time // when each place lapses
}

func newLines() *lines { return &lines{m: map[string]*line{}} }

// turn reports whether the delivery id of session may go ahead now: there is no line, or it
// is first in it (places that lapsed are dropped first).
func (ls *lines) turn(session, id string, now time.Time) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.m[session]
	if l == nil {
		return true
	}
	for len(l.ids) > 0 && now.After(l.until[0]) {
		l.ids, l.until = l.ids[1:], l.until[1:]
	}
	if len(l.ids) == 0 {
		delete(ls.m, session)
		return true
	}
	return l.ids[0] == id
}

// join keeps the place of a put-off delivery, due again at due, until due+lineGrace: at the
// end of the line, or where it already stands.
func (ls *lines) join(session, id string, now, due time.Time) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.sweep(now)
	l := ls.m[session]
	if l == nil {
		l = &line{}
		ls.m[session] = l
	}
	until := due.Add(lineGrace)
	if i := slices.Index(l.ids, id); i >= 0 {
		l.until[i] = until
		return
	}
	l.ids = append(l.ids, id)
	l.until = append(l.until, until)
}

// leave removes a delivery from its session's line once it was attempted, withheld or
// dropped.
func (ls *lines) leave(session, id string) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.m[session]
	if l == nil {
		return
	}
	if i := slices.Index(l.ids, id); i >= 0 {
		l.ids = slices.Delete(l.ids, i, i+1)
		l.until = slices.Delete(l.until, i, i+1)
	}
	if len(l.ids) == 0 {
		delete(ls.m, session)
	}
}

// sweep drops lapsed places of every line, at most once a minute, so that the lines of
// sessions that see no further delivery do not stay forever. Called with ls.mu held.
func (ls *lines) sweep(now time.Time) {
	if now.Sub(ls.gc) < time.Minute {
		return
	}
	ls.gc = now
	for session, l := range ls.m {
		for i := len(l.ids) - 1; i >= 0; i-- {
			if now.After(l.until[i]) {
				l.ids = slices.Delete(l.ids, i, i+1)
				l.until = slices.Delete(l.until, i, i+1)
			}
		}
		if len(l.ids) == 0 {
			delete(ls.m, session)
		}
	}
}

// ahead returns the latest due time of the put-off deliveries ahead of id in its session's
// line (all of them when id has no place yet): a delivery that must wait behind them comes
// back no earlier, so it is not handed out, and put off again, before they had their turn.
// ok is false when no place is ahead of it.
func (ls *lines) ahead(session, id string) (due time.Time, ok bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.m[session]
	if l == nil {
		return time.Time{}, false
	}
	n := len(l.ids)
	if i := slices.Index(l.ids, id); i >= 0 {
		n = i
	}
	for _, until := range l.until[:n] {
		if d := until.Add(-lineGrace); !ok || d.After(due) {
			due, ok = d, true
		}
	}
	return due, ok
}
