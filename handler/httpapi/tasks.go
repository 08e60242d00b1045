package httpapi

import (
	"net/http"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func (s *Server) updateTask(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	var u nimbus.TaskUpdate
	if err := decodeJSON(w, r, MaxBody, &u); err != nil {
		return err
	}
	info, err := s.cfg.Tasks.Update(r.Context(), caller, r.PathValue("taskId"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (s *Server) addExternalTask(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	var body nimbus.ExternalTaskWrite
	if err := decodeJSON(w, r, MaxBody, &body); err != nil {
		return err
	}
	res, err := s.cfg.ExternalTasks.Add(r.Context(), caller, body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) removeExternalTask(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	res, err := s.cfg.ExternalTasks.Remove(r.Context(), caller, r.PathValue("externalTaskId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
