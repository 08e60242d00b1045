package sim

import (
	"fmt"
	"math"
	"math/rand"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Service is what the model needs to know about a service of the directory.
type Service struct {
	ID         string
	UPN        string
	TelNumber  string
	Modalities []nimbus.Modality // inbound modalities the service enables (ExternalTask excluded)
	VA         bool              // virtual assistant enabled: calls end with a transcript
}

// Odds are the probabilities and limits of the workflow model.
type Odds struct {
	Abandon      float64       // an inbound task leaves the queue before a user answers
	Transfer     float64       // a connected task is transferred to a second service
	WaitForParam float64       // the workflow waits for a parameter a flow sets (TaskUpdated)
	MaxQueueTime time.Duration // model time; a longer wait ends with QueueLeft
	WaitTimeout  time.Duration // model time a "Wait for Parameter" waits for TaskUpdated
}

// DefaultOdds are those of an ordinary day in a contact center.
func DefaultOdds() Odds {
	return Odds{Abandon: 0.12, Transfer: 0.08, WaitForParam: 0.1, MaxQueueTime: 3 * time.Minute, WaitTimeout: 90 * time.Second}
}

// Step is one event of a plan, After (model time) the previous step.
type Step struct {
	After      time.Duration
	Event      nimbus.TaskEvent
	ServiceUPN string
	Fields     nimbus.TaskFields
	Parameter  *nimbus.Parameter
	// Deliverable is false for an event the handler accepts but must not notify (a second
	// WorkflowStarted after a transfer).
	Deliverable bool
	// WaitForParameter marks the point where the workflow waits (up to After) for a
	// TaskUpdated command; the runner emits the updated parameters and continues.
	WaitForParameter bool
}

// Plan is the life of one task as the model drew it.
type Plan struct {
	TaskID     string
	Modality   nimbus.Modality
	Direction  nimbus.Direction
	Steps      []Step
	Transcript bool   // the call ends with a virtual-assistant transcript
	Agent      string // the user who handled the task, when one did
}

// Model draws task plans. It is deterministic: the same seed gives the same plans.
type Model struct {
	Odds     Odds
	Services []Service // inbound services with a valid workflow
	Users    []string  // UPNs tasks are connected to
	Start    time.Time // model clock origin for occurredAt-derived fields
}

var collected = []struct {
	name   string
	values []string
}{
	{"language", []string{"de", "fr", "en", "it"}},
	{"intent", []string{"billing", "order", "technical", "complaint", "other"}},
	{"customerNumber", []string{"C-1001", "C-2042", "C-3310", "C-4711", "C-5150"}},
	{"queuePosition", []string{"1", "2", "3", "4"}},
}

// exp draws an exponential duration with the given mean, capped at 5 means.
func exp(rng *rand.Rand, mean time.Duration) time.Duration {
	d := time.Duration(rng.ExpFloat64() * float64(mean))
	return min(d, 5*mean)
}

// between draws uniformly in [lo, hi].
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int63n(int64(hi-lo)+1))
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.Intn(len(xs))] }

// Inbound draws the life of an inbound task of service svc (SPEC 5): WorkflowStarted →
// SystemAccepted → ParameterUpdated (collected inputs) → InQueue → ConnectedToUser or
// QueueLeft → Terminated, with a possible "Wait for Parameter" and transfer.
func (m *Model) Inbound(rng *rand.Rand, taskID string, svc Service) Plan {
	mod := pick(rng, svc.Modalities)
	p := Plan{TaskID: taskID, Modality: mod, Direction: nimbus.DirectionInbound}
	at := time.Duration(0)
	add := func(after time.Duration, s Step) {
		at += after
		s.After = after
		if s.ServiceUPN == "" {
			s.ServiceUPN = svc.UPN
		}
		p.Steps = append(p.Steps, s)
	}
	stamp := func() string { return m.Start.Add(at).UTC().Format(time.RFC3339) }
	n := rng.Intn(90000) + 10000
	f := nimbus.TaskFields{CallChainID: fmt.Sprintf("chain-%s", taskID)}
	anon := rng.Float64() < 0.1
	f.IsAnonymous = &anon
	switch mod {
	case nimbus.ModalityAudio:
		f.CallerID = fmt.Sprintf("8:acs:caller-%d", n)
		if !anon {
			f.CallerTelNumber = fmt.Sprintf("+4179%07d", n)
		}
		f.MicrosoftDestinationID = "28:" + svc.ID
		f.DestinationTelNumber = svc.TelNumber
	case nimbus.ModalityInstantMessaging:
		f.CallerID = fmt.Sprintf("8:acs:chat-%d", n)
		f.InitialMessage = pick(rng, []string{"Hello, I have a question about my invoice.", "Where is my order?", "My device does not start.", "Can I change my delivery address?"})
	case nimbus.ModalityEmail:
		f.CallerUPN = fmt.Sprintf("customer%d@example.com", n)
		f.EmailServiceMailboxUPN = svc.UPN
		f.EmailSubject = pick(rng, []string{"Invoice question", "Order status", "Technical problem", "Address change"})
		f.EmailBodyUniquePlainText = fmt.Sprintf("Dear team,\n\nplease have a look at case %d.\n\nKind regards", n)
		f.EmailBodyUniqueRichText = fmt.Sprintf("<p>Dear team,</p><p>please have a look at case %d.</p><p>Kind regards</p>", n)
	}
	f.Created = stamp()
	add(0, Step{Event: nimbus.EventWorkflowStarted, Fields: f, Deliverable: true})
	add(between(rng, 500*time.Millisecond, 3*time.Second), Step{Event: nimbus.EventSystemAccepted, Deliverable: true})
	inputs := 1 + rng.Intn(3)
	if mod == nimbus.ModalityEmail {
		inputs = 1
	}
	for i := 0; i < inputs; i++ {
		c := collected[i]
		add(between(rng, 3*time.Second, 15*time.Second), Step{Event: nimbus.EventParameterUpdated, Parameter: &nimbus.Parameter{Name: c.name, Value: pick(rng, c.values)}, Deliverable: true})
	}
	if rng.Float64() < m.Odds.WaitForParam {
		add(between(rng, time.Second, 3*time.Second), Step{Event: nimbus.EventParameterUpdated, Parameter: &nimbus.Parameter{Name: "waitingFor", Value: "crmId"}, Deliverable: true})
		add(m.Odds.WaitTimeout, Step{WaitForParameter: true})
	}
	add(between(rng, time.Second, 4*time.Second), Step{Event: nimbus.EventInQueue, Deliverable: true})
	abandon := rng.Float64() < m.Odds.Abandon
	wait := exp(rng, 40*time.Second)
	if mod == nimbus.ModalityEmail {
		wait = exp(rng, 5*time.Minute)
	}
	switch {
	case abandon && mod != nimbus.ModalityEmail:
		add(between(rng, 5*time.Second, max(m.Odds.MaxQueueTime, 6*time.Second)), Step{Event: nimbus.EventQueueLeft, Deliverable: true})
		add(between(rng, 100*time.Millisecond, time.Second), Step{Event: nimbus.EventTerminated, Fields: nimbus.TaskFields{Terminated: "x"}, Deliverable: true})
		return m.stampTerminated(p)
	case wait >= m.Odds.MaxQueueTime && mod != nimbus.ModalityEmail:
		add(m.Odds.MaxQueueTime, Step{Event: nimbus.EventQueueLeft, Deliverable: true})
		add(between(rng, 100*time.Millisecond, time.Second), Step{Event: nimbus.EventTerminated, Fields: nimbus.TaskFields{Terminated: "x"}, Deliverable: true})
		return m.stampTerminated(p)
	}
	p.Agent = pick(rng, m.Users)
	add(wait, m.connected(p.Agent))
	talk := talkTime(rng, mod)
	if len(m.Services) > 1 && mod != nimbus.ModalityEmail && rng.Float64() < m.Odds.Transfer {
		var to Service
		for to = pick(rng, m.Services); to.UPN == svc.UPN; to = pick(rng, m.Services) {
		}
		add(talk/3, Step{Event: nimbus.EventWorkflowStarted, ServiceUPN: to.UPN, Deliverable: false})
		add(between(rng, time.Second, 3*time.Second), Step{Event: nimbus.EventInQueue, ServiceUPN: to.UPN, Deliverable: true})
		p.Agent = pick(rng, m.Users)
		c := m.connected(p.Agent)
		c.ServiceUPN = to.UPN
		add(exp(rng, 30*time.Second), c)
		add(talkTime(rng, mod), Step{Event: nimbus.EventTerminated, ServiceUPN: to.UPN, Fields: nimbus.TaskFields{Terminated: "x"}, Deliverable: true})
		p.Transcript = mod == nimbus.ModalityAudio && to.VA
		return m.stampTerminated(p)
	}
	add(talk, Step{Event: nimbus.EventTerminated, Fields: nimbus.TaskFields{Terminated: "x"}, Deliverable: true})
	p.Transcript = mod == nimbus.ModalityAudio && svc.VA
	return m.stampTerminated(p)
}

func (m *Model) connected(agent string) Step {
	return Step{Event: nimbus.EventConnectedToUser, Deliverable: true, Fields: nimbus.TaskFields{
		LastConnectedUserID: userID(agent), LastConnectedUserUPN: agent, LastConnectedUserEmail: agent}}
}

// stampTerminated fills the terminated time of the Terminated step from the model clock.
func (m *Model) stampTerminated(p Plan) Plan {
	var at time.Duration
	for i := range p.Steps {
		at += p.Steps[i].After
		if p.Steps[i].Event == nimbus.EventTerminated {
			p.Steps[i].Fields.Terminated = m.Start.Add(at).UTC().Format(time.RFC3339)
		}
	}
	return p
}

// talkTime draws a handling time: a log-normal around a few minutes for calls and chats,
// longer for e-mails.
func talkTime(rng *rand.Rand, mod nimbus.Modality) time.Duration {
	mean := 4 * time.Minute
	switch mod {
	case nimbus.ModalityInstantMessaging:
		mean = 6 * time.Minute
	case nimbus.ModalityEmail:
		mean = 8 * time.Minute
	}
	d := time.Duration(float64(mean) * math.Exp(rng.NormFloat64()*0.5-0.125))
	return min(max(d, 20*time.Second), 6*mean)
}

// userID is a stable object id for a user, as core reports it.
func userID(upn string) string {
	var h uint32 = 2166136261
	for i := 0; i < len(upn); i++ {
		h = (h ^ uint32(upn[i])) * 16777619
	}
	return fmt.Sprintf("00000000-0000-4000-8000-%012x", h)
}
