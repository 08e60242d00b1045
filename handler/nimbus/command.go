package nimbus

import "time"

// CommandType names a command sent to Nimbus core on the nimbus-commands queue (SPEC 9).
type CommandType string

const (
	CommandTaskUpdated           CommandType = "TaskUpdated"
	CommandExternalTaskAdded     CommandType = "ExternalTaskAdded"
	CommandExternalTaskRemoved   CommandType = "ExternalTaskRemoved"
	CommandOutboundCallRequested CommandType = "OutboundCallRequested"
)

// Command is one message to Nimbus core. The fields after Type depend on it; empty ones are
// left out. The format is documented in the README for whoever implements the core side.
type Command struct {
	CommandID string      `json:"commandId"`
	TenantID  string      `json:"tenantId"`
	Type      CommandType `json:"type"`
	IssuedAt  time.Time   `json:"issuedAt"`
	TaskID    string      `json:"taskId,omitempty"`
	ServiceID string      `json:"serviceId,omitempty"`
	// ServiceUPN names the service the command is for.
	ServiceUPN string `json:"serviceUpn,omitempty"`
	// Changes is what TaskUpdated changed: only the customer fields that were set, the
	// parameters that were upserted, and the preferred users when they were replaced.
	Changes *TaskChanges `json:"changes,omitempty"`
	// ExternalTask is the new task of ExternalTaskAdded.
	ExternalTask *ExternalTaskSpec `json:"externalTask,omitempty"`
	// OutboundCall is the attempt of OutboundCallRequested.
	OutboundCall *OutboundCall `json:"outboundCall,omitempty"`
}

// TaskChanges is the content of a TaskUpdated command.
type TaskChanges struct {
	Customer                map[string]any  `json:"customer,omitempty"`
	CustomContextParameters []Parameter     `json:"customContextParameters,omitempty"`
	PreferredUsers          []PreferredUser `json:"preferredUsers,omitempty"`
	PreferredUsersReplaced  bool            `json:"preferredUsersReplaced,omitempty"`
}

// ExternalTaskSpec is what core needs to create an external task.
type ExternalTaskSpec struct {
	CustomerIdentifier      string          `json:"customerIdentifier,omitempty"`
	Customer                Customer        `json:"customer"`
	CustomContextParameters []Parameter     `json:"customContextParameters"`
	DistributionPriority    Priority        `json:"distributionPriority"`
	PreferredUsers          []PreferredUser `json:"preferredUsers"`
}

// Priority is a distribution priority of a task or scheduler entry.
type Priority string

const (
	PriorityLow    Priority = "Low"
	PriorityNormal Priority = "Normal"
	PriorityHigh   Priority = "High"
	PriorityStrict Priority = "Strict"
)

// Priorities is the distribution-priority dropdown.
var Priorities = []NameValue{
	{Name: "Low", Value: string(PriorityLow)}, {Name: "Normal", Value: string(PriorityNormal)},
	{Name: "High", Value: string(PriorityHigh)}, {Name: "Strict", Value: string(PriorityStrict)},
}

// KnownPriority reports whether p is a priority.
func KnownPriority(p Priority) bool { return listed(Priorities, string(p)) }
