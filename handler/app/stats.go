package app

import (
	"log/slog"
	"sync"
)

// Stats counts what the pipeline drops or fails, by reason, for logs and the admin API.
// Safe for concurrent use.
type Stats struct {
	log *slog.Logger
	mu  sync.Mutex
	m   map[string]int64
}

// NewStats returns counters that also log each event at info level.
func NewStats(log *slog.Logger) *Stats {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Stats{log: log, m: map[string]int64{}}
}

// Dropped counts an event dropped for reason.
func (s *Stats) Dropped(reason string, attrs ...any) {
	s.mu.Lock()
	s.m["dropped: "+reason]++
	s.mu.Unlock()
	s.log.Info("event dropped", append([]any{"reason", reason}, attrs...)...)
}

// Count adds one to a named counter without logging.
func (s *Stats) Count(name string) {
	s.mu.Lock()
	s.m[name]++
	s.mu.Unlock()
}

// Snapshot returns a copy of the counters.
func (s *Stats) Snapshot() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.m))
	for k, v := range s.m {
		out[k] = v
	}
	return out
}
