package sim

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Stats counts what the simulator did; all fields are safe for concurrent use.
type Stats struct {
	TasksStarted     atomic.Int64
	TasksRunning     atomic.Int64
	EventsAccepted   atomic.Int64 // events in batches the handler answered 202
	EventsIgnored    atomic.Int64 // of those, the ones it reported as repeats
	EventsRejected   atomic.Int64 // events in batches answered with a 4xx (a defect)
	SendRetries      atomic.Int64 // batches sent again after a transport error, 429 or 5xx
	CommandsReceived atomic.Int64
	CommandsAnswered atomic.Int64
	CommandRepeats   atomic.Int64
	ParametersSet    atomic.Int64 // "Wait for Parameter" resolved by TaskUpdated
	AttemptsReported atomic.Int64
	Transcripts      atomic.Int64
	Errors           atomic.Int64 // calls that failed for good
}

// Line is the live summary line.
func (s *Stats) Line(elapsed time.Duration) string {
	return fmt.Sprintf("sim %6s  tasks started %d (running %d)  events sent %d (repeats %d, retried batches %d)  commands answered %d/%d  attempts %d  transcripts %d  errors %d",
		elapsed.Round(time.Second), s.TasksStarted.Load(), s.TasksRunning.Load(), s.EventsAccepted.Load(), s.EventsIgnored.Load(),
		s.SendRetries.Load(), s.CommandsAnswered.Load(), s.CommandsReceived.Load(), s.AttemptsReported.Load(), s.Transcripts.Load(), s.Errors.Load()+s.EventsRejected.Load())
}

// Tally writes the final tally.
func (s *Stats) Tally(w io.Writer, elapsed time.Duration) {
	rows := []struct {
		name string
		v    int64
	}{
		{"tasks started", s.TasksStarted.Load()},
		{"events accepted (202)", s.EventsAccepted.Load()},
		{"  of which repeats ignored", s.EventsIgnored.Load()},
		{"events rejected (4xx)", s.EventsRejected.Load()},
		{"batches retried", s.SendRetries.Load()},
		{"commands received", s.CommandsReceived.Load()},
		{"commands answered", s.CommandsAnswered.Load()},
		{"repeated commands", s.CommandRepeats.Load()},
		{"parameters set by TaskUpdated", s.ParametersSet.Load()},
		{"attempt outcomes reported", s.AttemptsReported.Load()},
		{"transcripts stored", s.Transcripts.Load()},
		{"failed calls", s.Errors.Load()},
	}
	fmt.Fprintf(w, "simulator tally after %s:\n", elapsed.Round(time.Second))
	for _, r := range rows {
		fmt.Fprintf(w, "  %-32s %d\n", r.name, r.v)
	}
}
