package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// adminTenant authorizes an admin call and returns the tenant it is about: given (a path or
// body value) or else the tenantId query parameter; a user's own tenant when both are empty.
// An app token must name the tenant (SPEC 10). A tenant the caller may not act on answers
// 404 like a missing one (SPEC 2.1).
func (s *Server) adminTenant(r *http.Request, caller nimbus.Caller, given string) (string, error) {
	if given == "" {
		given = r.URL.Query().Get("tenantId")
	}
	if given == "" && !caller.IsApp {
		given = caller.TenantID
	}
	if given == "" {
		return "", nimbus.Invalid("tenantId", "The tenantId parameter (a GUID) is required with an application token.")
	}
	if !nimbus.ValidTenantID(given) {
		return "", nimbus.Invalid("tenantId", "The tenantId %q is not a GUID.", given)
	}
	if err := s.cfg.Directory.AuthorizeAdmin(r.Context(), caller, given); err != nil {
		return "", err
	}
	if strings.EqualFold(given, caller.TenantID) {
		return caller.TenantID, nil
	}
	return given, nil
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	tenant, err := s.adminTenant(r, caller, "")
	if err != nil {
		return err
	}
	subs, err := s.cfg.Subscriptions.List(r.Context(), caller, tenant, r.URL.Query().Get("status"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, subs)
	return nil
}

func parseTime(target, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, nimbus.Invalid(target, "%s must be an RFC 3339 timestamp such as 2026-11-26T10:00:00Z.", target)
	}
	return t, nil
}

func (s *Server) listFailures(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	q := r.URL.Query()
	tenant, err := s.adminTenant(r, caller, "")
	if err != nil {
		return err
	}
	f := app.FailureFilter{TenantID: tenant, SubscriptionID: q.Get("subscriptionId")}
	if f.Since, err = parseTime("since", q.Get("since")); err != nil {
		return err
	}
	if f.Until, err = parseTime("until", q.Get("until")); err != nil {
		return err
	}
	out, err := s.cfg.Failures.List(r.Context(), caller, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type replayRequest struct {
	TenantID       string   `json:"tenantId"`
	IDs            []string `json:"ids"`
	SubscriptionID string   `json:"subscriptionId"`
	Since          string   `json:"since"`
	Until          string   `json:"until"`
}

type replayResult struct {
	Replayed int `json:"replayed"`
}

func (s *Server) replayFailures(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	var req replayRequest
	if err := decodeJSON(w, r, MaxBody, &req); err != nil {
		return err
	}
	tenant, err := s.adminTenant(r, caller, req.TenantID)
	if err != nil {
		return err
	}
	f := app.FailureFilter{TenantID: tenant, IDs: req.IDs, SubscriptionID: req.SubscriptionID}
	if f.Since, err = parseTime("since", req.Since); err != nil {
		return err
	}
	if f.Until, err = parseTime("until", req.Until); err != nil {
		return err
	}
	n, err := s.cfg.Failures.Replay(r.Context(), caller, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, replayResult{Replayed: n})
	return nil
}
