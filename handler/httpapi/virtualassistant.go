package httpapi

import (
	"net/http"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// registerVirtualAssistant adds the virtual-assistant routes (SPEC 8): the trigger, the
// action, its dropdowns, and core's transcript upload.
func (s *Server) registerVirtualAssistant() {
	s.handle("POST /v1/triggers/virtual-assistant", s.op(nimbus.GroupConversations, s.registerVirtualAssistantTrigger))
	// Deleting needs no role, as for task triggers (see register).
	s.handle("DELETE /v1/triggers/virtual-assistant/{triggerId}", s.user(s.deleteTrigger(nimbus.KindVirtualAssistant)))
	s.handle("GET /v1/virtual-assistant/service-contacts", s.op(nimbus.GroupConversations, s.upnList(s.cfg.Directory.VirtualAssistantServices)))
	s.handle("GET /v1/virtual-assistant/data-types", s.op(nimbus.GroupConversations, s.staticList(nimbus.GroupConversations, nimbus.TranscriptDataTypes)))
	s.handle("GET /v1/virtual-assistant/{serviceSessionId}/transcriptionData/{dataType}", s.op(nimbus.GroupConversations, s.virtualAssistantData))
	s.handle("PUT /internal/v1/transcripts/{serviceSessionId}", s.core(s.storeTranscript))
}

// registerVirtualAssistantTrigger answers like registerTaskTrigger: 201 with the Location
// that Power Automate later DELETEs, the same id for a re-registration.
func (s *Server) registerVirtualAssistantTrigger(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	var cfg nimbus.VirtualAssistantTriggerConfig
	if err := decodeJSON(w, r, MaxBody, &cfg); err != nil {
		return err
	}
	sub, err := s.cfg.Subscriptions.RegisterVirtualAssistantTrigger(r.Context(), caller, cfg)
	if err != nil {
		return err
	}
	w.Header().Set("Location", s.baseURL(r)+"/v1/triggers/"+string(sub.Kind)+"/"+sub.ID)
	writeJSON(w, http.StatusCreated, triggerCreated{ID: sub.ID})
	return nil
}

// virtualAssistantData is GetVirtualAssistantData: the Transcript (segments streamed) or
// the Summary of a service session.
func (s *Server) virtualAssistantData(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	dataType := nimbus.TranscriptDataType(r.PathValue("dataType"))
	t, err := s.cfg.Transcripts.Data(r.Context(), caller, r.PathValue("serviceSessionId"), dataType, r.URL.Query().Get("userSessionId"))
	if err != nil {
		return err
	}
	if dataType == nimbus.DataSummary {
		writeJSON(w, http.StatusOK, t.Summary)
		return nil
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if err := nimbus.WriteTranscriptView(w, t); err != nil {
		// The status is sent; the client sees a truncated body.
		s.log.WarnContext(r.Context(), "writing a transcript failed", "correlationId", correlationID(r), "err", err)
	}
	return nil
}
