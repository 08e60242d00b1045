package httpapi

import (
	"net/http"
	"strconv"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// stats serves GET /admin/v1/stats: the tenant's counters since the process started (SPEC
// 4.5).
func (s *Server) stats(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	tenant, err := s.adminTenant(r, caller, "")
	if err != nil {
		return err
	}
	rep, err := s.cfg.Stats.Report(r.Context(), caller, tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// listAttempts serves GET /admin/v1/subscriptions/{id}/attempts: the subscription's delivery
// log, to the tenant's admins and to the subscription's owner, so it authenticates any
// caller and leaves the decision to the use case.
func (s *Server) listAttempts(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	if caller.IsApp { // an app token reads it only as an admin: say so before the arguments
		if err := s.cfg.Directory.AdminStanding(r.Context(), caller); err != nil {
			return err
		}
	}
	q := r.URL.Query()
	tenant := q.Get("tenantId")
	if tenant == "" && !caller.IsApp {
		tenant = caller.TenantID
	}
	if tenant == "" {
		return nimbus.Invalid("tenantId", "The tenantId parameter (a GUID) is required with an application token.")
	}
	if !nimbus.ValidTenantID(tenant) {
		return nimbus.Invalid("tenantId", "The tenantId %q is not a GUID.", tenant)
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nimbus.Invalid("limit", "limit must be a whole number between 1 and %d.", app.MaxAttemptPage)
		}
		limit = n
	}
	page, err := s.cfg.Attempts.Attempts(r.Context(), caller, tenant, r.PathValue("id"), limit, q.Get("next"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
