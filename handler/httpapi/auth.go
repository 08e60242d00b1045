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

// The wrappers below check the caller's role before the handler reads any argument, so a
// caller without the role learns 403 and nothing about what a valid request would be (a
// malformed body or parameter is only reported to callers who may use the operation). The
// use cases check again, with the arguments, at call time.

// op serves a connector operation of group g: the caller must be a directory user whose role
// admits g for at least one service (SPEC 2.2).
func (s *Server) op(g nimbus.Group, h callerHandler) http.HandlerFunc {
	return s.user(func(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
		if _, _, err := s.cfg.Directory.AccessFor(r.Context(), caller, g); err != nil {
			return err
		}
		return h(w, r, caller)
	})
}

// admin serves an admin route: the caller must be a tenant admin or carry the Nimbus.Admin
// app role. Which tenant it may act on is decided with the arguments (adminTenant).
func (s *Server) admin(h callerHandler) http.HandlerFunc {
	return s.user(func(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
		if err := s.cfg.Directory.AdminStanding(r.Context(), caller); err != nil {
			return err
		}
		return h(w, r, caller)
	})
}

// core serves an internal route: only Nimbus core, an app token of a trusted operator app
// with the Nimbus.Core role (SPEC 2.1, 9), may call it.
func (s *Server) core(h callerHandler) http.HandlerFunc {
	return s.user(func(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
		if err := requireCore(caller); err != nil {
			return err
		}
		return h(w, r, caller)
	})
}

// requireCore admits only Nimbus core. The role is kept on a caller only for the operator's
// trusted apps (nimbus.AppTrust), so a customer's app carrying it is refused here.
func requireCore(caller nimbus.Caller) error {
	if caller.IsApp && caller.Operator && caller.HasAppRole(nimbus.AppRoleCore) {
		return nil
	}
	return nimbus.Forbidden("Only Nimbus core may call the internal API: it needs an application token with the %s role from the operator's tenant.", nimbus.AppRoleCore)
}
