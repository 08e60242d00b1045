package nimbus

import "time"

// Retention of task projections (SPEC 5.2): a terminated task's projection is purged once
// the tenant's settings.taskRetentionDays have passed; events that arrive for it later are
// dropped and counted.
const (
	DefaultTaskRetentionDays = 7
	MaxTaskRetentionDays     = 3650
)

// TaskRetention is how long a terminated task's projection is kept.
func (s TenantSettings) TaskRetention() time.Duration {
	days := s.TaskRetentionDays
	if days == 0 {
		days = DefaultTaskRetentionDays
	}
	return time.Duration(days) * 24 * time.Hour
}

func (s *TenantSettings) validateRetention() error {
	if s.TaskRetentionDays < 0 || s.TaskRetentionDays > MaxTaskRetentionDays {
		return Invalid("settings.taskRetentionDays", "settings.taskRetentionDays must be a number of days from 1 to %d (absent or 0 means %d), got %d", MaxTaskRetentionDays, DefaultTaskRetentionDays, s.TaskRetentionDays)
	}
	return nil
}
