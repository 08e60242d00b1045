package sim

import (
	"fmt"
	"math/rand"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// External draws the life of an external task core was asked to add (SPEC 7): it is
// accepted, queued, handled by a user and closed.
func (m *Model) External(rng *rand.Rand, cmd nimbus.Command) Plan {
	p := Plan{TaskID: cmd.TaskID, Modality: nimbus.ModalityExternalTask, Direction: nimbus.DirectionInbound}
	f := nimbus.TaskFields{CallChainID: "chain-" + cmd.TaskID, Created: cmd.IssuedAt.UTC().Format(time.RFC3339)}
	if cmd.ExternalTask != nil && cmd.ExternalTask.CustomerIdentifier != "" {
		f.CustomerIdentifier = cmd.ExternalTask.CustomerIdentifier
	}
	anon := f.CustomerIdentifier == ""
	f.IsAnonymous = &anon
	p.Agent = pick(rng, m.Users)
	p.Steps = []Step{
		{Event: nimbus.EventWorkflowStarted, Fields: f},
		{After: between(rng, 200*time.Millisecond, 2*time.Second), Event: nimbus.EventSystemAccepted},
		{After: between(rng, time.Second, 3*time.Second), Event: nimbus.EventInQueue},
		{After: exp(rng, 2*time.Minute)},
		{After: talkTime(rng, nimbus.ModalityEmail), Event: nimbus.EventTerminated, Fields: nimbus.TaskFields{Terminated: "x"}},
	}
	p.Steps[3] = m.connected(p.Agent)
	p.Steps[3].After = exp(rng, 2*time.Minute)
	for i := range p.Steps {
		p.Steps[i].ServiceUPN = cmd.ServiceUPN
		p.Steps[i].Deliverable = true
	}
	m.Start = cmd.IssuedAt
	return m.stampTerminated(p)
}

// Outcome is what became of an outbound attempt.
type Outcome struct {
	Outcome nimbus.AttemptOutcome
	Reason  string
	Ring    time.Duration // model time until the outcome is known
}

// AttemptOdds are the odds of an outbound attempt's outcome; the rest is "reached".
type AttemptOdds struct {
	NoAnswer float64
	Busy     float64
	Failed   float64
}

// Attempt draws the outcome of an outbound attempt.
func (m *Model) Attempt(rng *rand.Rand, odds AttemptOdds, timeout time.Duration) Outcome {
	x := rng.Float64()
	switch {
	case x < odds.NoAnswer:
		return Outcome{Outcome: nimbus.OutcomeNotReached, Reason: "NoAnswer", Ring: min(timeout, 30*time.Second)}
	case x < odds.NoAnswer+odds.Busy:
		return Outcome{Outcome: nimbus.OutcomeNotReached, Reason: "Busy", Ring: between(rng, time.Second, 4*time.Second)}
	case x < odds.NoAnswer+odds.Busy+odds.Failed:
		return Outcome{Outcome: nimbus.OutcomeFailed, Reason: "SystemError", Ring: between(rng, 100*time.Millisecond, time.Second)}
	}
	return Outcome{Outcome: nimbus.OutcomeReached, Reason: "DestinationReached", Ring: between(rng, 3*time.Second, min(timeout, 25*time.Second))}
}

// Outbound draws the outbound task of a reached attempt: WorkflowStarted, then
// DestinationReached once the destination answers.
func (m *Model) Outbound(rng *rand.Rand, taskID string, cmd nimbus.Command, svc Service) Plan {
	call := cmd.OutboundCall
	attempt := call.Attempt
	f := nimbus.TaskFields{
		CallChainID: "chain-" + taskID, Created: cmd.IssuedAt.UTC().Format(time.RFC3339),
		MicrosoftCallerID: "28:" + svc.ID, CallerTelNumber: svc.TelNumber,
		DestinationTelNumber: call.Destination, ReferenceID: call.ReferenceID,
		OutboundAttempt: &attempt, SchedulerEntryID: call.SchedulerEntryID,
	}
	p := Plan{TaskID: taskID, Modality: nimbus.ModalityAudio, Direction: nimbus.DirectionOutbound, Transcript: svc.VA}
	p.Agent = pick(rng, m.Users)
	p.Steps = []Step{
		{Event: nimbus.EventWorkflowStarted, ServiceUPN: svc.UPN, Fields: f, Deliverable: true},
		{After: between(rng, time.Second, 5*time.Second), Event: nimbus.EventDestinationReached, ServiceUPN: svc.UPN, Deliverable: true,
			Fields: nimbus.TaskFields{LastConnectedUserID: userID(p.Agent), LastConnectedUserUPN: p.Agent, LastConnectedUserEmail: p.Agent}},
	}
	return p
}

// Transcript makes the virtual assistant's transcript and summary of a finished call.
func (m *Model) Transcript(rng *rand.Rand, tenant string, p Plan, service string, talk time.Duration) nimbus.Transcript {
	lines := [][2]string{
		{"Customer", "Hello, I am calling about my last invoice."},
		{"User", "Of course, may I have your customer number?"},
		{"Customer", fmt.Sprintf("It is C-%d.", 1000+rng.Intn(9000))},
		{"User", "Thank you. I see a double charge; I will refund it today."},
		{"Customer", "Great, thank you very much."},
	}
	segs := make([]nimbus.TranscriptSegment, 0, len(lines))
	var off int64
	for _, l := range lines {
		d := int64(2000 + rng.Intn(6000))
		s := nimbus.TranscriptSegment{Speaker: nimbus.Speaker(l[0]), OffsetMs: off, DurationMs: d, Text: l[1]}
		if s.Speaker == nimbus.SpeakerUser {
			s.UserUPN = p.Agent
		}
		segs = append(segs, s)
		off += d + 500
	}
	return nimbus.Transcript{
		ServiceSessionID: "ss-" + p.TaskID, TenantID: tenant, TaskID: p.TaskID, ServiceUPN: service,
		UserSessionID: "us-" + p.TaskID, UserUPN: p.Agent, Language: "en-US",
		DurationSeconds: max(talk.Seconds(), float64(off)/1000), Segments: segs,
		Summary: &nimbus.TranscriptSummary{
			Title: "Invoice double charge", Issue: "The customer was charged twice.",
			Resolution: "The agent refunds the second charge today.", Recap: "Refund promised.",
			Narrative: "The customer called about a double charge on the last invoice; the agent confirmed it and promised a refund.",
		},
	}
}
