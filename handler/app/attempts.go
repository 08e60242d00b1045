package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// The delivery log keeps the recent attempts of every subscription (SPEC 4.5) in the
// deliveryattempts table: partition "<tenant>|<subscription>", row "<inverted unix nanos,
// hex>-<attempt id>", so a partition lists newest first.
//
// It is diagnostic, deliveries are not: attempts are handed to a buffered writer that never
// blocks a delivery. When the buffer is full (storage slower than deliveries for a while)
// records are dropped and counted, and a crash loses what was still buffered (at most
// attemptBuffer records, written within attemptFlushEvery). Close flushes it.
const (
	// AttemptLogKeep is how long attempts are kept.
	AttemptLogKeep = 7 * 24 * time.Hour
	// AttemptLogPerSubscription is how many attempts are kept per subscription, newest first.
	AttemptLogPerSubscription = 1000
	// MaxAttemptPage bounds one page of GET .../attempts; DefaultAttemptPage is its default.
	MaxAttemptPage     = 200
	DefaultAttemptPage = 50

	attemptBuffer     = 4096
	attemptFlushEvery = 500 * time.Millisecond
	// attemptTrimEvery is how many rows a partition gets between two trims of it to
	// AttemptLogPerSubscription, so it holds at most their sum.
	attemptTrimEvery = 500
	// attemptSweepEvery is how often every partition is trimmed to AttemptLogKeep, so the log
	// of a quiet or removed subscription ages out too.
	attemptSweepEvery = time.Hour
	// attemptPartitions is the partition listing the partitions that hold attempts.
	attemptPartitions = "~partitions"
)

// Delivery log outcomes (the outcome field of an attempt).
const (
	LogDelivered        = "delivered"
	LogRetry            = "retry"
	LogDeadLetter       = "deadLetter"
	LogSubscriptionDead = "subscriptionDead"
	LogWithheld         = "withheld"
	LogPutOff           = "putOff"
)

// AttemptRecord is one entry of the delivery log. It names the event, never its payload or
// the callback URL.
type AttemptRecord struct {
	Time       time.Time `json:"time"`
	AttemptID  string    `json:"attemptId"`
	EventID    string    `json:"eventId"`
	EventKind  string    `json:"eventKind"`
	Event      string    `json:"event"`
	Attempt    int       `json:"attempt"`
	Status     int       `json:"status"`
	LatencyMs  float64   `json:"latencyMs"`
	Outcome    string    `json:"outcome"`
	ErrorClass string    `json:"errorClass"`
}

// pendingAttempt is a record waiting in the buffer with what the writer needs to finish it.
type pendingAttempt struct {
	tenant, subscription string
	rec                  AttemptRecord
	payload              json.RawMessage // read for the event name by the writer, then dropped
}

// AttemptLog is the delivery log. Safe for concurrent use.
type AttemptLog struct {
	table nimbus.Table
	dir   *Directory
	subs  *Subscriptions
	log   *slog.Logger
	now   func() time.Time

	ch        chan pendingAttempt
	stop      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
	lost      atomic.Int64

	// Owned by the writer goroutine.
	sinceTrim map[string]int  // rows written per partition since its last trim
	known     map[string]bool // partitions listed in attemptPartitions by this process
}

// NewAttemptLog returns the delivery log over table and starts its writer; Close stops it.
func NewAttemptLog(table nimbus.Table, dir *Directory, subs *Subscriptions, log *slog.Logger) *AttemptLog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &AttemptLog{table: table, dir: dir, subs: subs, log: log, now: time.Now,
		ch: make(chan pendingAttempt, attemptBuffer), stop: make(chan struct{}), stopped: make(chan struct{}),
		sinceTrim: map[string]int{}, known: map[string]bool{}}
	go l.run()
	return l
}

// Record queues one attempt for writing without ever blocking. A nil log records nothing
// (the delivery log is turned off).
func (l *AttemptLog) Record(tenant, subscription string, rec AttemptRecord, payload json.RawMessage) {
	if l == nil {
		return
	}
	select {
	case l.ch <- pendingAttempt{tenant: tenant, subscription: subscription, rec: rec, payload: payload}:
	default:
		if n := l.lost.Add(1); n&(n-1) == 0 { // log at 1, 2, 4, 8, … lost records
			l.log.Warn("delivery log buffer full: attempts not recorded", "lost", n)
		}
	}
}

// Lost reports how many records were dropped because the buffer was full.
func (l *AttemptLog) Lost() int64 {
	if l == nil {
		return 0
	}
	return l.lost.Load()
}

// Close flushes the buffered records and stops the writer, waiting at most until ctx is
// done.
func (l *AttemptLog) Close(ctx context.Context) {
	if l == nil {
		return
	}
	l.closeOnce.Do(func() { close(l.stop) })
	select {
	case <-l.stopped:
	case <-ctx.Done():
		l.log.Warn("delivery log not flushed in time: the last attempts are not recorded")
	}
}

func newAttemptID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func attemptPartition(tenant, subscription string) string { return tenant + "|" + subscription }

// attemptRowKey sorts newer attempts first.
func attemptRowKey(at time.Time, id string) string {
	return fmt.Sprintf("%016x-%s", uint64(math.MaxInt64-at.UnixNano()), id)
}

// attemptRowTime is the time encoded in a row key (zero when it is not one).
func attemptRowTime(rowKey string) time.Time {
	var inv uint64
	if _, err := fmt.Sscanf(rowKey, "%016x-", &inv); err != nil || inv > math.MaxInt64 {
		return time.Time{}
	}
	return time.Unix(0, math.MaxInt64-int64(inv))
}

// ErrorClass names what went wrong with an attempt, for the delivery log: "" when it was
// delivered.
func ErrorClass(a nimbus.Attempt) string {
	switch s := a.Status; {
	case s == 0 && a.Err == nimbus.AttemptRefused:
		return "ssrf"
	case s == 0 && a.TimedOut():
		return "timeout"
	case s == 0:
		return "connection"
	case s >= 200 && s < 300:
		return ""
	case s == 410:
		return "gone"
	case s == 429:
		return "throttled"
	case s >= 500:
		return "http5xx"
	case s >= 400:
		return "http4xx"
	}
	return fmt.Sprintf("http%dxx", a.Status/100)
}
