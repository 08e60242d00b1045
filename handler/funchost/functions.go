package funchost

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Consumer is one Service Bus triggered function: its folder name under functions/, the queue
// its function.json names, the handler of each message, and how many messages the embedded
// runner hands it at once when the handler runs standalone.
type Consumer struct {
	Function string
	Queue    string
	Handler  nimbus.Handler
	Workers  int
}

// Timer is one timer triggered function: its folder name, its NCRONTAB schedule (the one in
// its function.json) and the job each occurrence runs.
type Timer struct {
	Function string
	Schedule string
	Job      func(ctx context.Context) error
	// Period, when set, replaces the schedule's period in the embedded runner (a setting
	// such as NIMBUS_SCHEDULER_SWEEP_INTERVAL); the Functions host keeps the schedule.
	Period time.Duration
}

// HandleConsumers and HandleTimers register the table rows as Funcs of the Host.
func (h *Host) HandleConsumers(cs ...Consumer) {
	for _, c := range cs {
		h.Handle(c.Function, QueueFunction(c.Handler))
	}
}

// HandleTimers registers each timer's job as the Func of its function.
func (h *Host) HandleTimers(ts ...Timer) {
	for _, t := range ts {
		h.Handle(t.Function, TimerFunction(t.Job))
	}
}

// QueueFunction adapts a queue handler to a Service Bus triggered function (binding
// "message"): a handler error fails the invocation, so the host abandons the message and
// Service Bus redelivers it.
//
// Service Bus redelivers an abandoned message at once, and dead-letters it after the queue's
// maximum delivery count; a storage outage would burn through that count in seconds. So a
// failing invocation first waits (holding the message lock, which the host renews), longer
// with every delivery, which stretches 50 deliveries over more than 20 minutes.
func QueueFunction(h nimbus.Handler) Func {
	return func(ctx context.Context, inv *Invocation) (Response, error) {
		m, err := inv.ServiceBusMessage("message")
		if err != nil {
			return Response{}, fmt.Errorf("decode service bus message: %w", err)
		}
		msg := nimbus.Message{ID: m.MessageID, SessionID: m.SessionID, Body: m.Body, DeliveryCount: m.DeliveryCount, EnqueuedAt: m.EnqueuedTime}
		if err := h(ctx, msg); err != nil {
			select {
			case <-time.After(AbandonBackoff(m.DeliveryCount)):
			case <-ctx.Done():
			}
			return Response{}, err
		}
		return Response{}, nil
	}
}

// AbandonBackoff is how long a failed invocation waits before it gives the message back:
// 200 ms doubling per delivery, capped at 30 s.
func AbandonBackoff(deliveryCount int) time.Duration {
	d := 200 * time.Millisecond
	for i := 1; i < deliveryCount && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}

// TimerFunction adapts a job to a timer triggered function (binding "timer"). A failed job
// fails the invocation; the host does not retry it, the next occurrence is the retry.
func TimerFunction(job func(ctx context.Context) error) Func {
	return func(ctx context.Context, inv *Invocation) (Response, error) {
		if _, err := inv.Timer("timer"); err != nil {
			return Response{}, err
		}
		return Response{}, job(ctx)
	}
}

// Every returns the period of an NCRONTAB schedule (seconds minutes hours day month weekday)
// of one of the forms the functions use: "*/N * * * * *" (every N seconds), "0 */N * * * *"
// (every N minutes), "0 0 */N * * *" (every N hours), and "0 0 * * * *" (hourly). The
// embedded runner ticks at that period; other schedules are refused at startup rather than
// run at a guessed one.
func Every(schedule string) (time.Duration, error) {
	f := strings.Fields(schedule)
	if len(f) != 6 || f[3] != "*" || f[4] != "*" || f[5] != "*" {
		return 0, fmt.Errorf("schedule %q: want six fields with day, month and weekday *", schedule)
	}
	step := func(field string, unit time.Duration) (time.Duration, bool) {
		n, err := strconv.Atoi(strings.TrimPrefix(field, "*/"))
		if !strings.HasPrefix(field, "*/") || err != nil || n < 1 {
			return 0, false
		}
		return time.Duration(n) * unit, true
	}
	switch {
	case f[0] == "0" && f[1] == "0" && f[2] == "*":
		return time.Hour, nil
	case f[1] == "*" && f[2] == "*":
		if d, ok := step(f[0], time.Second); ok {
			return d, nil
		}
	case f[0] == "0" && f[2] == "*":
		if d, ok := step(f[1], time.Minute); ok {
			return d, nil
		}
	case f[0] == "0" && f[1] == "0":
		if d, ok := step(f[2], time.Hour); ok {
			return d, nil
		}
	}
	return 0, fmt.Errorf("schedule %q: not a fixed period this runner supports", schedule)
}
