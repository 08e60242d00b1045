package httpapi

import (
	"net/http"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// The scheduler-entry operations (SPEC 6, 6.1) and core's attempt reports (SPEC 9).

func (s *Server) registerScheduler() {
	sc := s.cfg.Scheduler
	s.handle("GET /v1/scheduler-entries/events", s.op(nimbus.GroupStaticLists, s.staticList(nimbus.GroupStaticLists, nimbus.SchedulerEvents)))
	s.handle("GET /v1/scheduler-entries/service-contacts", s.op(nimbus.GroupOutboundSchedule, s.upnList(sc.Services)))
	s.handle("GET /v1/scheduler-entries/distribution-priorities", s.op(nimbus.GroupOutboundSchedule, s.staticList(nimbus.GroupOutboundSchedule, nimbus.Priorities)))
	s.handle("GET /v1/scheduler-entries", s.op(nimbus.GroupOutboundManage, s.listSchedulerEntries))
	s.handle("POST /v1/scheduler-entries", s.op(nimbus.GroupOutboundSchedule, s.createSchedulerEntry(nimbus.ConversationOutboundCall)))
	s.handle("PUT /v1/scheduler-entries/{SchedulerEntryID}", s.op(nimbus.GroupOutboundManage, s.updateSchedulerEntry(nimbus.ConversationOutboundCall)))
	s.handle("DELETE /v1/scheduler-entries/{SchedulerEntryID}", s.op(nimbus.GroupOutboundManage, s.deleteSchedulerEntry))
	s.handle("POST /v1/outbound-call-with-workflow/scheduler-entries", s.op(nimbus.GroupOutboundSchedule, s.createSchedulerEntry(nimbus.ConversationOutboundCallWithWorkflow)))
	s.handle("PUT /v1/outbound-call-with-workflow/scheduler-entries/{SchedulerEntryID}", s.op(nimbus.GroupOutboundManage, s.updateSchedulerEntry(nimbus.ConversationOutboundCallWithWorkflow)))
	s.handle("POST /v1/triggers/scheduler-entries", s.op(nimbus.GroupOutboundManage, s.registerSchedulerTrigger))
	// Like the task trigger's: no role needed to remove one's own trigger.
	s.handle("DELETE /v1/triggers/scheduler-entries/{triggerId}", s.user(s.deleteTrigger(nimbus.KindSchedulerEntry)))
	s.handle("POST /internal/v1/scheduler-entries/{id}/attempts", s.core(s.reportAttempt))
}

func (s *Server) listSchedulerEntries(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	out, err := s.cfg.Scheduler.List(r.Context(), caller, r.URL.Query().Get("serviceUpn"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createSchedulerEntry(ct nimbus.ConversationType) callerHandler {
	return func(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
		var body nimbus.SchedulerEntryWrite
		if err := decodeJSON(w, r, MaxBody, &body); err != nil {
			return err
		}
		out, err := s.cfg.Scheduler.Create(r.Context(), caller, body, ct)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func (s *Server) updateSchedulerEntry(ct nimbus.ConversationType) callerHandler {
	return func(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
		var body nimbus.SchedulerEntryWrite
		if err := decodeJSON(w, r, MaxBody, &body); err != nil {
			return err
		}
		out, err := s.cfg.Scheduler.Update(r.Context(), caller, r.PathValue("SchedulerEntryID"), body, ct)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func (s *Server) deleteSchedulerEntry(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	out, err := s.cfg.Scheduler.Delete(r.Context(), caller, r.PathValue("SchedulerEntryID"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) registerSchedulerTrigger(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	var cfg nimbus.SchedulerTriggerConfig
	if err := decodeJSON(w, r, MaxBody, &cfg); err != nil {
		return err
	}
	sub, err := s.cfg.Subscriptions.RegisterSchedulerEntryTrigger(r.Context(), caller, cfg)
	if err != nil {
		return err
	}
	w.Header().Set("Location", s.baseURL(r)+"/v1/triggers/"+string(sub.Kind)+"/"+sub.ID)
	writeJSON(w, http.StatusCreated, triggerCreated{ID: sub.ID})
	return nil
}

// reportAttempt answers 202 once the outcome is applied; a stale or repeated report is
// answered the same and changes nothing.
func (s *Server) reportAttempt(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	var body nimbus.AttemptReport
	if err := decodeJSON(w, r, MaxBody, &body); err != nil {
		return err
	}
	if err := s.cfg.Scheduler.Report(r.Context(), r.PathValue("id"), body); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
	return nil
}
