package sim

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// outEvent is an event waiting to be sent.
type outEvent struct {
	ev          nimbus.IngestEvent
	deliverable bool
}

// Accepted is told about every batch the handler acknowledged with 202.
type Accepted func(evs []nimbus.IngestEvent, deliverable []bool, at time.Time)

// sender posts events in batches, in the order they were queued, and retries a batch until
// the handler accepts it, so a restart or outage of the handler loses nothing.
type sender struct {
	client   *Client
	in       chan outEvent
	stats    *Stats
	log      *slog.Logger
	accepted Accepted
	maxBatch int
	linger   time.Duration
}

func newSender(c *Client, stats *Stats, log *slog.Logger, accepted Accepted) *sender {
	return &sender{client: c, in: make(chan outEvent, 4096), stats: stats, log: log, accepted: accepted, maxBatch: 200, linger: 20 * time.Millisecond}
}

// run sends until in is closed and drained, or ctx ends.
func (s *sender) run(ctx context.Context) {
	for {
		first, ok := <-s.in
		if !ok {
			return
		}
		batch := []outEvent{first}
		timer := time.NewTimer(s.linger)
	collect:
		for len(batch) < s.maxBatch {
			select {
			case e, ok := <-s.in:
				if !ok {
					break collect
				}
				batch = append(batch, e)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		if !s.send(ctx, batch) {
			return
		}
	}
}

// send delivers one batch, retrying while the handler is unreachable or busy. It returns
// false when ctx ended first.
func (s *sender) send(ctx context.Context, batch []outEvent) bool {
	evs := make([]nimbus.IngestEvent, len(batch))
	deliverable := make([]bool, len(batch))
	for i, b := range batch {
		evs[i], deliverable[i] = b.ev, b.deliverable
	}
	wait := 100 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		res, err := s.client.SendEvents(cctx, evs)
		cancel()
		if err == nil {
			s.stats.EventsAccepted.Add(int64(len(evs)))
			s.stats.EventsIgnored.Add(int64(res.Ignored))
			if s.accepted != nil {
				s.accepted(evs, deliverable, time.Now())
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if !Retryable(err) {
			s.stats.EventsRejected.Add(int64(len(evs)))
			s.log.Error("the handler rejected a batch of task events", "events", len(evs), "err", err)
			return true
		}
		s.stats.SendRetries.Add(1)
		s.log.Debug("sending task events again", "err", err)
		var se *StatusError
		if errors.As(err, &se) && se.RetryAfter > 0 {
			wait = min(se.RetryAfter, 5*time.Second)
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(wait*2, 2*time.Second)
	}
}
