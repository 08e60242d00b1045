package sim

import (
	"context"
	"fmt"
	"math/rand"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// play emits a plan's events at their times. A task that must end early (the simulator
// stops, or core was asked to remove it) is terminated at once, so no projection is left
// in progress.
func (s *Sim) play(p Plan, lt *liveTask, rng *rand.Rand) {
	var seq int64
	connected, terminated := false, false
	service := ""
	began := time.Now()
	emit := func(st Step) {
		seq++
		now := time.Now().UTC()
		f := st.Fields
		if f.Created != "" {
			f.Created = now.Format(time.RFC3339Nano)
		}
		if f.Terminated != "" {
			f.Terminated = now.Format(time.RFC3339Nano)
		}
		sq := seq
		ev := nimbus.IngestEvent{
			EventID: fmt.Sprintf("%s-%d", p.TaskID, seq), TenantID: s.cfg.TenantID, TaskID: p.TaskID, Sequence: &sq,
			Event: st.Event, OccurredAt: now.Format(time.RFC3339Nano), ServiceUPN: st.ServiceUPN,
			Direction: p.Direction, Modality: p.Modality, Fields: f, Parameter: st.Parameter,
		}
		s.send.in <- outEvent{ev: ev, deliverable: st.Deliverable}
		service = st.ServiceUPN
		switch st.Event {
		case nimbus.EventConnectedToUser, nimbus.EventDestinationReached:
			connected = true
		case nimbus.EventTerminated:
			terminated = true
		}
	}
	for _, st := range p.Steps {
		if st.WaitForParameter {
			s.waitForParameter(st, lt, emit, service)
			continue
		}
		if !s.sleep(st.After, lt) {
			break
		}
		emit(st)
	}
	if !terminated && p.Direction == nimbus.DirectionInbound && seq > 0 {
		emit(Step{Event: nimbus.EventTerminated, ServiceUPN: service, Fields: nimbus.TaskFields{Terminated: "x"}, Deliverable: true})
	}
	if p.Transcript && connected && p.Direction == nimbus.DirectionOutbound && !s.sleep(talkTime(rng, nimbus.ModalityAudio), lt) {
		return
	}
	if p.Transcript && connected {
		s.storeTranscript(p, rng, service, time.Duration(float64(time.Since(began))*s.cfg.Speed))
	}
}

// waitForParameter waits (up to the step's model time) for a TaskUpdated command and emits a
// ParameterUpdated for each parameter it set; the workflow then goes on either way.
func (s *Sim) waitForParameter(st Step, lt *liveTask, emit func(Step), service string) {
	t := time.NewTimer(time.Duration(float64(st.After) / s.cfg.Speed))
	defer t.Stop()
	select {
	case cmd := <-lt.updates:
		s.stats.ParametersSet.Add(1)
		if cmd.Changes != nil {
			for _, prm := range cmd.Changes.CustomContextParameters {
				emit(Step{Event: nimbus.EventParameterUpdated, ServiceUPN: service, Parameter: &prm, Deliverable: true})
			}
		}
	case <-t.C:
	case <-s.hurry:
	case <-lt.remove:
	}
}

// storeTranscript stores the virtual assistant's transcript of a finished call.
func (s *Sim) storeTranscript(p Plan, rng *rand.Rand, service string, talk time.Duration) {
	t := s.model.Transcript(rng, s.cfg.TenantID, p, service, talk)
	if err := retry(context.Background(), 2*time.Minute, func(ctx context.Context) error { return s.cfg.Client.PutTranscript(ctx, t) }); err != nil {
		s.stats.Errors.Add(1)
		s.cfg.Log.Error("could not store a transcript", "task", p.TaskID, "err", err)
		return
	}
	s.stats.Transcripts.Add(1)
}

// retry calls f until it succeeds, fails for good, or the time is up.
func retry(ctx context.Context, within time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	wait := 200 * time.Millisecond
	for {
		cctx, c := context.WithTimeout(ctx, 30*time.Second)
		err := f(cctx)
		c()
		if err == nil || !Retryable(err) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(wait*2, 3*time.Second)
	}
}
