package httpapi

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// storeTranscript is PUT /internal/v1/transcripts/{serviceSessionId} (SPEC 9): up to
// nimbus.MaxTranscriptBody bytes, decoded as the body streams in (one segment at a time,
// so the raw body is never held whole beside the decoded transcript); 202 once the
// transcript and its event are durable.
func (s *Server) storeTranscript(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	session := r.PathValue("serviceSessionId")
	if err := nimbus.CheckSessionID("serviceSessionId", session); err != nil {
		return err
	}
	if err := requireJSONContent(r); err != nil {
		return err
	}
	t, err := nimbus.DecodeTranscript(http.MaxBytesReader(w, r.Body, nimbus.MaxTranscriptBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		var ne *nimbus.Error
		switch {
		case errors.As(err, &tooBig):
			return &nimbus.Error{Kind: nimbus.KindTooLarge, Message: fmt.Sprintf("A transcript may be at most %d bytes.", nimbus.MaxTranscriptBody)}
		case errors.As(err, &ne):
			return err
		}
		return nimbus.Invalid("", "The request body could not be read.")
	}
	t.ServiceSessionID = session
	res, err := s.cfg.Transcripts.Store(r.Context(), caller, &t)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, res)
	return nil
}

// requireJSONContent answers 415 for a body declared as something other than JSON.
func requireJSONContent(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &nimbus.Error{Kind: nimbus.KindUnsupported, Message: fmt.Sprintf("The request body must be JSON (Content-Type: application/json), not %q.", ct)}
	}
	return nil
}
