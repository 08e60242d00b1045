package httpapi

import (
	"context"
	"net/http"

	"github.com/nimbusflow/connector/handler/nimbus"
)

type triggerCreated struct {
	ID string `json:"id"`
}

// registerTaskTrigger answers 201 with the Location that Power Automate later DELETEs; a
// re-registration (same owner and callback URL) answers the same id (SPEC 4.1).
func (s *Server) registerTaskTrigger(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	var cfg nimbus.TaskTriggerConfig
	if err := decodeJSON(w, r, MaxBody, &cfg); err != nil {
		return err
	}
	sub, err := s.cfg.Subscriptions.RegisterTaskTrigger(r.Context(), caller, cfg)
	if err != nil {
		return err
	}
	w.Header().Set("Location", s.baseURL(r)+"/v1/triggers/"+string(sub.Kind)+"/"+sub.ID)
	writeJSON(w, http.StatusCreated, triggerCreated{ID: sub.ID})
	return nil
}

func (s *Server) deleteTrigger(kind nimbus.SubscriptionKind) callerHandler {
	return func(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
		if err := s.cfg.Subscriptions.Delete(r.Context(), caller, kind, r.PathValue("triggerId")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// upnList serves a dropdown of UPNs computed for the caller.
func (s *Server) upnList(list func(ctx context.Context, caller nimbus.Caller) ([]string, error)) callerHandler {
	return func(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
		upns, err := list(r.Context(), caller)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, upns)
		return nil
	}
}

func (s *Server) staticList(g nimbus.Group, list []nimbus.NameValue) callerHandler {
	return func(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
		out, err := s.cfg.Directory.List(r.Context(), caller, g, list)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}
