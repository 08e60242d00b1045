package httpapi

import (
	"net/http"

	"github.com/nimbusflow/connector/handler/console"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// consoleAdminBase is the admin API path the console calls: the one reachable both
// standalone and under the Functions host, which reserves /admin for itself.
const consoleAdminBase = "/manage/v1"

// registerConsole serves the admin console's static page at /console/. Its assets need no
// token: they hold no data, and every call the page makes to the admin API is checked as
// any other.
func (s *Server) registerConsole() {
	settings := s.cfg.Console
	settings.DevAuth = s.cfg.Dev != nil
	settings.AdminBase = consoleAdminBase
	c := console.New(settings)
	s.handle("GET /console", func(w http.ResponseWriter, r *http.Request) {
		// The page's assets are relative to /console/; the query (an Entra sign-in answer)
		// goes along.
		target := "/console/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		console.SecurityHeaders(w.Header(), c.CSP())
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	})
	s.handle("GET /console/{path...}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("path")
		if !c.Has(name) {
			console.SecurityHeaders(w.Header(), c.CSP())
			writeError(w, r, s.log, nimbus.NotFound("The console has no page or file %q.", truncate(name, maxLoggedPath)))
			return
		}
		c.Serve(w, r, name)
	})
}
