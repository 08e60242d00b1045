package httpapi

import (
	"net/http"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// callerHandler is a handler that runs with an authenticated caller and reports failures as
// errors, which the wrapper writes in the connector's error format.
type callerHandler func(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error

// user authenticates the bearer token and runs h; any failure to authenticate is a 401 with
// WWW-Authenticate: Bearer.
func (s *Server) user(h callerHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.cfg.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if err := h(w, r, caller); err != nil {
			writeError(w, r, s.log, err)
		}
	}
}
