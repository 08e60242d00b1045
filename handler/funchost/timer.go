package funchost

import (
	"fmt"
	"time"
)

// TimerInfo is a timer trigger's binding value (the host's TimerInfo, serialized).
type TimerInfo struct {
	// IsPastDue is true when the invocation runs later than scheduled, for example after a
	// restart or a long previous run. The host does not retry a failed timer invocation; the
	// next occurrence is the retry.
	IsPastDue bool
	Schedule  struct{ AdjustForDST bool }
	// ScheduleStatus is nil when the host has no schedule monitor (useMonitor false) or on the
	// first run, when nothing has been recorded yet.
	ScheduleStatus *ScheduleStatus
}

// ScheduleStatus is the schedule monitor's record, in UTC.
type ScheduleStatus struct {
	Last        time.Time
	Next        time.Time
	LastUpdated time.Time
}

// Timer decodes the timer trigger binding named binding.
func (inv *Invocation) Timer(binding string) (TimerInfo, error) {
	raw, ok := inv.data(binding)
	if !ok {
		return TimerInfo{}, fmt.Errorf("timer binding %q: missing from invocation data", binding)
	}
	var wire struct {
		IsPastDue      bool
		Schedule       struct{ AdjustForDST bool }
		ScheduleStatus *struct {
			Last, Next, LastUpdated hostTime
		}
	}
	if err := decodeMaybeString(raw, &wire); err != nil {
		return TimerInfo{}, fmt.Errorf("timer binding %q: %w", binding, err)
	}
	info := TimerInfo{IsPastDue: wire.IsPastDue, Schedule: wire.Schedule}
	if st := wire.ScheduleStatus; st != nil {
		info.ScheduleStatus = &ScheduleStatus{
			Last:        st.Last.Time,
			Next:        st.Next.Time,
			LastUpdated: st.LastUpdated.Time,
		}
	}
	return info, nil
}
