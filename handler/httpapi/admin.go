package httpapi

import (
	"net/http"
	"strings"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func (s *Server) exportDirectory(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	tenant, err := s.adminTenant(r, caller, r.PathValue("tenantId"))
	if err != nil {
		return err
	}
	d, err := s.cfg.Directory.Export(r.Context(), caller, tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// importDirectory replaces the tenant's directory. The tenant id of the path decides; a body
// naming another tenant is refused rather than silently re-targeted. A body that is not a
// directory object (null, a number, an array) is refused before it could become an empty
// import (SPEC 10).
func (s *Server) importDirectory(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	tenant, err := s.adminTenant(r, caller, r.PathValue("tenantId"))
	if err != nil {
		return err
	}
	var d *nimbus.Directory
	if err := decodeJSON(w, r, MaxDirectoryBody, &d); err != nil {
		return err
	}
	if d == nil {
		return nimbus.Invalid("", "The request body must be a tenant directory (a JSON object with ous, services, users and addressBooks), not null.")
	}
	if d.TenantID == "" {
		d.TenantID = tenant
	}
	if !strings.EqualFold(d.TenantID, tenant) {
		return nimbus.Invalid("tenantId", "The body's tenantId %q differs from the tenant in the path.", d.TenantID)
	}
	d.TenantID = tenant
	x, err := s.cfg.Directory.Import(r.Context(), caller, *d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.cfg.Directory.View(x))
	return nil
}
