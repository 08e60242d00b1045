package nimbus

// TaskEvent is a state change of a task that triggers can subscribe to (SPEC 5).
type TaskEvent string

const (
	EventWorkflowStarted    TaskEvent = "WorkflowStarted"
	EventSystemAccepted     TaskEvent = "SystemAccepted"
	EventParameterUpdated   TaskEvent = "ParameterUpdated"
	EventInQueue            TaskEvent = "InQueue"
	EventConnectedToUser    TaskEvent = "ConnectedToUser"
	EventDestinationReached TaskEvent = "DestinationReached"
	EventQueueLeft          TaskEvent = "QueueLeft"
	EventTerminated         TaskEvent = "Terminated"
)

// Direction of a task.
type Direction string

const (
	DirectionInbound  Direction = "Inbound"
	DirectionOutbound Direction = "Outbound"
)

// Directions lists the directions for the connector dropdown.
var Directions = []NameValue{{Name: "Inbound", Value: string(DirectionInbound)}, {Name: "Outbound", Value: string(DirectionOutbound)}}

// KnownDirection reports whether d is a direction.
func KnownDirection(d Direction) bool { return d == DirectionInbound || d == DirectionOutbound }

// EventInfo describes one task event: its display name, the directions that raise it, and
// the name older (legacy) flows know it by.
type EventInfo struct {
	Event    TaskEvent
	Name     string
	Inbound  bool
	Outbound bool
	Legacy   string
}

// TaskEvents is the table of SPEC 5, in lifecycle order.
var TaskEvents = []EventInfo{
	{EventWorkflowStarted, "Workflow Started", true, true, "Created"},
	{EventSystemAccepted, "System Accepted", true, false, "Accepted by System"},
	{EventParameterUpdated, "Parameter Updated", true, false, "Parameter Updated"},
	{EventInQueue, "In Queue", true, false, "Queued"},
	{EventConnectedToUser, "Connected to User", true, false, "Connected to User"},
	{EventDestinationReached, "Destination Reached", false, true, "Outbound Connected to Destination"},
	{EventQueueLeft, "Queue Left", true, false, "Queue Left"},
	{EventTerminated, "Terminated", true, false, "Terminated"},
}

// TaskEventInfo returns the table row of e.
func TaskEventInfo(e TaskEvent) (EventInfo, bool) {
	for _, x := range TaskEvents {
		if x.Event == e {
			return x, true
		}
	}
	return EventInfo{}, false
}

// RaisedFor reports whether the event is raised for tasks of direction d.
func (x EventInfo) RaisedFor(d Direction) bool {
	return d == DirectionInbound && x.Inbound || d == DirectionOutbound && x.Outbound
}

// TaskEventList is the GetTaskEvents dropdown.
func TaskEventList() []NameValue {
	out := make([]NameValue, len(TaskEvents))
	for i, x := range TaskEvents {
		out[i] = NameValue{Name: x.Name, Value: string(x.Event)}
	}
	return out
}
