package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand"
	"net/http"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// ServeHTTP is core's command endpoint (NIMBUS_CORE_COMMANDS_URL): it acknowledges each
// command at once and carries it out in the background. A repeated commandId is the same
// command and is acknowledged again without effect.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "Commands are POSTed.", http.StatusMethodNotAllowed)
		return
	}
	var cmd nimbus.Command
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&cmd); err != nil {
		http.Error(w, "The command is not valid JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	if cmd.CommandID == "" || cmd.Type == "" {
		http.Error(w, "A command needs commandId and type.", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		w.Header().Set("Retry-After", "5")
		http.Error(w, "The simulator is stopping; send the command again later.", http.StatusServiceUnavailable)
		return
	}
	s.stats.CommandsReceived.Add(1)
	repeat := s.seen[cmd.CommandID]
	s.seen[cmd.CommandID] = true
	if !repeat {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	if repeat {
		s.stats.CommandRepeats.Add(1)
		return
	}
	go func() {
		defer s.wg.Done()
		if s.handle(cmd) {
			s.stats.CommandsAnswered.Add(1)
		}
	}()
}

// commandRng is the command's own random source: the same seed and command give the same
// outcome whatever else happens.
func (s *Sim) commandRng(id string) *rand.Rand {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return rand.New(rand.NewSource(s.cfg.Seed ^ int64(h.Sum64())))
}

// handle carries out one command; it reports whether the command was answered.
func (s *Sim) handle(cmd nimbus.Command) bool {
	rng := s.commandRng(cmd.CommandID)
	switch cmd.Type {
	case nimbus.CommandTaskUpdated:
		s.mu.Lock()
		lt := s.tasks[cmd.TaskID]
		s.mu.Unlock()
		if lt != nil {
			select {
			case lt.updates <- cmd:
			default:
			}
		}
		return true
	case nimbus.CommandExternalTaskAdded:
		if _, ok := s.services[cmd.ServiceUPN]; !ok {
			s.cfg.Log.Warn("an external task names a service the simulator does not know", "service", cmd.ServiceUPN)
			return false
		}
		s.start(s.model.External(rng, cmd), rng)
		return true
	case nimbus.CommandExternalTaskRemoved:
		s.mu.Lock()
		lt := s.tasks[cmd.TaskID]
		s.mu.Unlock()
		if lt != nil {
			lt.once.Do(func() { close(lt.remove) })
		}
		return true
	case nimbus.CommandOutboundCallRequested:
		return s.call(cmd, rng)
	}
	s.cfg.Log.Info("ignoring a command of a type the simulator does not know", "type", cmd.Type)
	return false
}

// call plays an outbound attempt: it rings, reports the outcome and, when the destination
// answered, runs the outbound task.
func (s *Sim) call(cmd nimbus.Command, rng *rand.Rand) bool {
	oc := cmd.OutboundCall
	svc, ok := s.services[cmd.ServiceUPN]
	if oc == nil || !ok {
		s.cfg.Log.Warn("an outbound call request lacks its call or names an unknown service", "service", cmd.ServiceUPN)
		return false
	}
	out := s.model.Attempt(rng, s.cfg.Attempts, time.Duration(oc.AttemptTimeoutInSeconds)*time.Second)
	select {
	case <-time.After(time.Duration(float64(out.Ring) / s.cfg.Speed)):
	case <-s.hurry:
		return false
	}
	report := nimbus.AttemptReport{TenantID: cmd.TenantID, Attempt: oc.Attempt, Outcome: out.Outcome, Reason: out.Reason}
	var plan Plan
	if out.Outcome == nimbus.OutcomeReached {
		plan = s.model.Outbound(rng, fmt.Sprintf("out-%s-%d", oc.SchedulerEntryID, oc.Attempt), cmd, svc)
		report.TaskID = plan.TaskID
	}
	report.OccurredAt = time.Now().UTC().Format(time.RFC3339Nano)
	err := retry(context.Background(), 2*time.Minute, func(ctx context.Context) error {
		return s.cfg.Client.ReportAttempt(ctx, oc.SchedulerEntryID, report)
	})
	if err != nil {
		s.stats.Errors.Add(1)
		s.cfg.Log.Error("could not report an outbound attempt", "entry", oc.SchedulerEntryID, "err", err)
		return false
	}
	s.stats.AttemptsReported.Add(1)
	if out.Outcome == nimbus.OutcomeReached {
		s.start(plan, rng)
	}
	return true
}
