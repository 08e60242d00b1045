package nimbus

import (
	"net/url"
	"slices"
	"strconv"
	"time"
)

// SubscriptionKind is the kind of trigger a subscription belongs to.
type SubscriptionKind string

const (
	KindTask             SubscriptionKind = "tasks"
	KindSchedulerEntry   SubscriptionKind = "scheduler-entries"
	KindVirtualAssistant SubscriptionKind = "virtual-assistant"
)

// SubscriptionStatus is where a subscription stands.
type SubscriptionStatus string

const (
	StatusActive    SubscriptionStatus = "active"
	StatusSuspended SubscriptionStatus = "suspended" // owner lost access (enforce policy); resumes when it returns
	StatusDead      SubscriptionStatus = "dead"      // the callback answered 410, or 404 three times
)

// Subscription is one registered webhook trigger of a flow.
type Subscription struct {
	ID       string           `json:"id"`
	TenantID string           `json:"tenantId"`
	Kind     SubscriptionKind `json:"kind"`
	OwnerUPN string           `json:"ownerUpn"`
	// CallbackURL is a bearer secret: stored, used, never logged nor returned in full.
	CallbackURL string `json:"callbackUrl"`
	// ServiceIDs index the subscription; ServiceUPNs keep what the flow asked for.
	ServiceIDs  []string    `json:"serviceIds"`
	ServiceUPNs []string    `json:"serviceUpns"`
	Events      []string    `json:"events"`
	Modalities  []Modality  `json:"modalities,omitempty"`
	Directions  []Direction `json:"directions,omitempty"`
	// Legacy subscriptions (the older connector) receive legacy event names.
	Legacy       bool               `json:"legacy,omitempty"`
	Status       SubscriptionStatus `json:"status"`
	StatusReason string             `json:"statusReason,omitempty"`
	// NotFoundStreak counts consecutive 404 answers of the callback.
	NotFoundStreak int       `json:"notFoundStreak,omitempty"`
	Created        time.Time `json:"created"`
	Updated        time.Time `json:"updated"`
}

// MaskedCallback is the callback URL as admin views show it: scheme and host only.
func (s *Subscription) MaskedCallback() string { return MaskURL(s.CallbackURL) }

// MaskURL keeps a URL's scheme and host and drops the rest (path and query carry the
// signature that makes a callback URL a secret).
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid)"
	}
	return u.Scheme + "://" + u.Host
}

// Matches reports whether a task event of a task with modality m and direction d is for
// this subscription (the service was matched by the index).
func (s *Subscription) Matches(event string, m Modality, d Direction) bool {
	if !slices.Contains(s.Events, event) {
		return false
	}
	if len(s.Modalities) > 0 && !slices.Contains(s.Modalities, m) {
		return false
	}
	if len(s.Directions) > 0 && !slices.Contains(s.Directions, d) {
		return false
	}
	return true
}

// MaxSubscriptionServices bounds the services of one trigger; MaxCallbackURL its URL.
const (
	MaxSubscriptionServices = 100
	MaxCallbackURL          = 4096
)

// checkTriggerTarget checks what every trigger kind's configuration has: the callback URL
// and the services it listens to (checked against the directory by the use case).
func checkTriggerTarget(url string, services []string) error {
	if url == "" {
		return Invalid("config.url", "config.url is required")
	}
	if len(url) > MaxCallbackURL {
		return Invalid("config.url", "config.url must be at most %d characters", MaxCallbackURL)
	}
	if len(services) == 0 {
		return Invalid("config.services", "config.services must not be empty")
	}
	if len(services) > MaxSubscriptionServices {
		return Invalid("config.services", "config.services must have at most %d entries", MaxSubscriptionServices)
	}
	return nil
}

// TaskTriggerConfig is the body of RegisterTaskWebHook: {"config": {...}}.
type TaskTriggerConfig struct {
	Config struct {
		URL        string      `json:"url"`
		Services   []string    `json:"services"`
		TaskEvents []TaskEvent `json:"taskEvents"`
		Modalities []Modality  `json:"modalities"`
		Directions []Direction `json:"directions"`
	} `json:"config"`
}

// Validate checks the trigger configuration's shape; services are checked against the
// directory and the caller's rights by the use case.
func (c *TaskTriggerConfig) Validate() error {
	cfg := &c.Config
	if err := checkTriggerTarget(cfg.URL, cfg.Services); err != nil {
		return err
	}
	if len(cfg.TaskEvents) == 0 {
		return Invalid("config.taskEvents", "config.taskEvents must not be empty")
	}
	for i, e := range cfg.TaskEvents {
		if _, ok := TaskEventInfo(e); !ok {
			return Invalid(indexed("config.taskEvents", i), "config.taskEvents[%d] %q is not a task event; see GetTaskEvents", i, e)
		}
	}
	for i, m := range cfg.Modalities {
		if !KnownModality(m) {
			return Invalid(indexed("config.modalities", i), "config.modalities[%d] %q is not a modality; see GetTaskModalities", i, m)
		}
	}
	for i, d := range cfg.Directions {
		if !KnownDirection(d) {
			return Invalid(indexed("config.directions", i), "config.directions[%d] %q is not a direction; see GetTaskDirections", i, d)
		}
	}
	return nil
}

func indexed(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }
