package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// MaxIngestBody bounds one ingest call: up to nimbus.MaxIngestBatch events.
const MaxIngestBody = 16 << 20

// ingestEvents accepts one event or an array of them; 202 once they are durably queued.
func (s *Server) ingestEvents(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	var raw json.RawMessage
	if err := decodeJSON(w, r, MaxIngestBody, &raw); err != nil {
		return err
	}
	var events []nimbus.IngestEvent
	if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &events); err != nil {
			return jsonError(err)
		}
	} else {
		var one nimbus.IngestEvent
		if err := json.Unmarshal(trimmed, &one); err != nil {
			return jsonError(err)
		}
		events = []nimbus.IngestEvent{one}
	}
	res, err := s.cfg.Ingest.Accept(r.Context(), caller, events)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, res)
	return nil
}
