package nimbus

import "context"

// SchedulerTriggerConfig is the body of RegisterSchedulerEntryTrigger: {"config": {...}}.
type SchedulerTriggerConfig struct {
	Config struct {
		URL                  string           `json:"url"`
		Services             []string         `json:"services"`
		SchedulerEntryEvents []SchedulerEvent `json:"schedulerEntryEvents"`
	} `json:"config"`
}

// Validate checks the configuration's shape; services are checked against the directory and
// the caller's rights by the use case.
func (c *SchedulerTriggerConfig) Validate() error {
	cfg := &c.Config
	if err := checkTriggerTarget(cfg.URL, cfg.Services); err != nil {
		return err
	}
	if len(cfg.SchedulerEntryEvents) == 0 {
		return Invalid("config.schedulerEntryEvents", "config.schedulerEntryEvents must not be empty")
	}
	for i, e := range cfg.SchedulerEntryEvents {
		if !KnownSchedulerEvent(e) {
			return Invalid(indexed("config.schedulerEntryEvents", i), "config.schedulerEntryEvents[%d] %q is not a scheduler entry event; see GetSchedulerEntriesEvents", i, e)
		}
	}
	return nil
}

// ScheduledQueue is a Queue that schedules a message for later and can cancel it by the
// sequence number the broker gave it (Service Bus scheduled messages). The scheduler keeps
// the number of each entry's wake-up message and cancels it when the entry moves on first;
// with a queue that cannot cancel, the stale message arrives and changes nothing.
type ScheduledQueue interface {
	Queue
	// Schedule stores m durably for delivery at m.NotBefore and returns its sequence number.
	// Errors are those of Send.
	Schedule(ctx context.Context, m Message) (int64, error)
	// CancelScheduled withdraws a scheduled message that has not been delivered yet.
	// Cancelling one that was delivered or cancelled already may fail; callers ignore that.
	CancelScheduled(ctx context.Context, seq int64) error
}
