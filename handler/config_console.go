package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/nimbusflow/connector/handler/console"
)

// defaultConsoleAuthority lets users of any organisation sign in to the console: tenant
// admins come from the customers' tenants.
const defaultConsoleAuthority = "https://login.microsoftonline.com/organizations"

// consoleConfig reads the console's Entra sign-in settings. Without a client id the console
// offers only dev sign-in (when dev auth is on) and a pasted token.
func consoleConfig(getenv func(string) string) (console.Settings, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	s := console.Settings{
		ClientID:  get("NIMBUS_CONSOLE_CLIENT_ID"),
		Authority: get("NIMBUS_CONSOLE_AUTHORITY"),
		Scope:     get("NIMBUS_CONSOLE_SCOPE"),
	}
	if s.Authority == "" {
		s.Authority = defaultConsoleAuthority
	}
	u, err := url.Parse(s.Authority)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return s, fmt.Errorf("NIMBUS_CONSOLE_AUTHORITY must be an https URL such as %s, not %q", defaultConsoleAuthority, s.Authority)
	}
	s.Authority = strings.TrimRight(s.Authority, "/")
	if s.ClientID == "" {
		return s, nil
	}
	if strings.ContainsAny(s.ClientID, " /?#&") {
		return s, fmt.Errorf("NIMBUS_CONSOLE_CLIENT_ID must be the console app's Application (client) ID, not %q", s.ClientID)
	}
	if s.Scope == "" {
		return s, fmt.Errorf("NIMBUS_CONSOLE_SCOPE is required with NIMBUS_CONSOLE_CLIENT_ID: the API scope the console asks for, such as api://nimbusflow.example.com/user_impersonation")
	}
	return s, nil
}
