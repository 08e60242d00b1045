package httpapi

import (
	"net/http"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// queueFilter reads the selectors shared by listing and replaying queue failures.
func queueFilter(tenant, queue, since, until string, ids []string) (app.QueueFailureFilter, error) {
	f := app.QueueFailureFilter{TenantID: tenant, Queue: queue, IDs: ids}
	if queue != "" && queue != nimbus.QueueEvents && queue != nimbus.QueueCommands {
		return f, nimbus.Invalid("queue", "queue must be %q or %q.", nimbus.QueueEvents, nimbus.QueueCommands)
	}
	var err error
	if f.Since, err = parseTime("since", since); err != nil {
		return f, err
	}
	if f.Until, err = parseTime("until", until); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Server) listQueueFailures(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	q := r.URL.Query()
	tenant, err := s.adminTenant(r, caller, "")
	if err != nil {
		return err
	}
	f, err := queueFilter(tenant, q.Get("queue"), q.Get("since"), q.Get("until"), nil)
	if err != nil {
		return err
	}
	out, err := s.cfg.QueueFailures.List(r.Context(), caller, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type queueReplayRequest struct {
	TenantID string   `json:"tenantId"`
	IDs      []string `json:"ids"`
	Queue    string   `json:"queue"`
	Since    string   `json:"since"`
	Until    string   `json:"until"`
}

func (s *Server) replayQueueFailures(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	var req queueReplayRequest
	if err := decodeJSON(w, r, MaxBody, &req); err != nil {
		return err
	}
	tenant, err := s.adminTenant(r, caller, req.TenantID)
	if err != nil {
		return err
	}
	f, err := queueFilter(tenant, req.Queue, req.Since, req.Until, req.IDs)
	if err != nil {
		return err
	}
	n, err := s.cfg.QueueFailures.Replay(r.Context(), caller, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, replayResult{Replayed: n})
	return nil
}

// readClaim answers Nimbus core with a claimed message body, as it was queued.
func (s *Server) readClaim(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	body, err := s.cfg.Claims.Read(r.Context(), caller, r.URL.Query().Get("tenantId"), r.PathValue("claimId"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}
