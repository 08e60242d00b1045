package httpapi

import (
	"bytes"
	"net/http"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// MaxIngestBody bounds one ingest call: up to nimbus.MaxIngestBatch events.
const MaxIngestBody = 16 << 20

// ingestEvents accepts one event or an array of them; 202 once they are durably queued.
func (s *Server) ingestEvents(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	// One event or an array of them: the first byte says which, so the body is parsed once.
	data, err := readJSONBody(w, r, MaxIngestBody)
	if err != nil {
		return err
	}
	var events []nimbus.IngestEvent
	if bytes.TrimSpace(data)[0] == '[' {
		if err := decodeValue(data, &events); err != nil {
			return err
		}
	} else {
		var one nimbus.IngestEvent
		if err := decodeValue(data, &one); err != nil {
			return err
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
