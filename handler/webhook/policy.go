package webhook

import (
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// DefaultAllowedHosts are the Power Platform and Logic Apps callback domains (SPEC 4.1).
var DefaultAllowedHosts = []string{"*.logic.azure.com", "*.azure-apim.net", "*.powerautomate.com", "*.powerplatform.com"}

// Policy decides which callback URLs may be called.
//
// The zero Policy is the production policy: https only, hosts from DefaultAllowedHosts, no
// private, loopback, link-local, CGNAT, multicast, documentation or cloud metadata addresses.
type Policy struct {
	// AllowInsecure is for local testing only: it allows http and loopback or private
	// addresses. It does not switch the host list off; see AllowedHosts.
	AllowInsecure bool
	// AllowedHosts are host patterns, compared case-insensitively: "*.logic.azure.com"
	// matches any subdomain at any depth but not logic.azure.com itself (list the apex
	// separately when it is wanted); any other pattern matches exactly. A literal IP host
	// matches only a pattern spelling the same IP.
	//
	// Empty means DefaultAllowedHosts, except with AllowInsecure, where empty means any host
	// (a developer's tunnel or localhost); a non-empty list is applied in both modes.
	AllowedHosts []string
}

// CheckURL checks a callback URL at registration and again before every attempt, so that a
// URL stored before a policy change is refused too. The URL must be absolute, https (http
// only with AllowInsecure), without user information, on an allowed host, with any port. A
// literal IP host must be a public address unless AllowInsecure; host names are checked
// after resolution, when the connection is made.
//
// Errors are *nimbus.Error of KindInvalid with Target "config.url". Their messages name the
// host at most: the path and query carry the URL's signature and are never echoed.
func (p Policy) CheckURL(raw string) error {
	if raw == "" {
		return urlError("the callback URL is required")
	}
	if len(raw) > nimbus.MaxCallbackURL {
		return urlError("the callback URL must be at most %d characters", nimbus.MaxCallbackURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// err quotes the whole URL, so it is dropped rather than wrapped.
		return urlError("the callback URL is not a valid URL")
	}
	if !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return urlError("the callback URL must be an absolute https URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowInsecure:
	default:
		return urlError("the callback URL must use https")
	}
	if u.User != nil {
		return urlError("the callback URL must not contain a user name or password")
	}
	host := canonicalHost(u.Hostname())
	if host == "" {
		return urlError("the callback URL must name a host")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return urlError("the callback URL has an invalid port")
		}
	}
	if a, err := netip.ParseAddr(host); err == nil && !p.AllowInsecure && !publicAddr(a) {
		return urlError("the callback address %s is not allowed", host)
	}
	if !p.hostAllowed(host) {
		return urlError("the callback host %s is not allowed", host)
	}
	return nil
}

func urlError(format string, args ...any) error {
	return nimbus.Invalid("config.url", format, args...)
}

// hostAllowed applies the host list to a canonical host name.
func (p Policy) hostAllowed(host string) bool {
	patterns := p.AllowedHosts
	if len(patterns) == 0 {
		if p.AllowInsecure {
			return true
		}
		patterns = DefaultAllowedHosts
	}
	for _, pattern := range patterns {
		if matchHost(canonicalHost(pattern), host) {
			return true
		}
	}
	return false
}

// matchHost matches a canonical host against a canonical pattern. "*." matches one or more
// labels in front of the suffix, never the suffix alone and never a name that merely ends
// with the same characters ("evillogic.azure.com").
func matchHost(pattern, host string) bool {
	if suffix, ok := strings.CutPrefix(pattern, "*."); ok {
		return suffix != "" && len(host) > len(suffix)+1 && strings.HasSuffix(host, "."+suffix)
	}
	return host == pattern
}

// canonicalHost lowercases a host name and drops the trailing dot of a fully qualified
// name, so that "X.Logic.Azure.COM." and "x.logic.azure.com" are the same host.
func canonicalHost(h string) string {
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// hostKey is the per-host slot key of a URL: the canonical host and the port, with the
// scheme's default port when none is given. URLs that do not parse share the "" key.
func hostKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if strings.EqualFold(u.Scheme, "http") {
			port = "80"
		}
	}
	return net.JoinHostPort(canonicalHost(u.Hostname()), port)
}
