package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// registerServiceCheck adds the service-check operations (SPEC 6.2): the opening-hours check
// and the services dropdown of its form.
func (s *Server) registerServiceCheck() {
	s.handle("GET /v1/service-check/opening-hours", s.op(nimbus.GroupOpeningHours, s.openingHours))
	s.handle("GET /v1/service-check/service-contacts", s.op(nimbus.GroupOpeningHours, s.upnList(s.cfg.Directory.OpeningHoursServices)))
}

// openingHoursAnswer is the body of GetOpeningHours.
type openingHoursAnswer struct {
	Status nimbus.OpeningStatus `json:"status"`
}

func (s *Server) openingHours(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	q := r.URL.Query()
	at, err := parseInstant("time", q.Get("time"))
	if err != nil {
		return err
	}
	status, err := s.cfg.Directory.OpeningHours(r.Context(), caller, q.Get("serviceUpn"), at)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, openingHoursAnswer{Status: status})
	return nil
}

// parseInstant parses an RFC 3339 date and time from a query parameter; empty is the zero
// time. A "+" of the offset that reached us as a space (written into a URL unencoded) is
// read as the "+" it was meant to be.
func parseInstant(target, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil && strings.Count(v, " ") == 1 {
		t, err = time.Parse(time.RFC3339, strings.Replace(v, " ", "+", 1))
	}
	if err != nil {
		return time.Time{}, nimbus.Invalid(target, "%s must be a date and time in RFC 3339 format with an offset, such as 2027-03-01T09:00:00+01:00 or 2027-03-01T08:00:00Z.", target)
	}
	return t, nil
}
