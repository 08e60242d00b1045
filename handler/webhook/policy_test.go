package webhook

import (
	"errors"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func TestCheckURL(t *testing.T) {
	const secret = "/workflows/SECRETPATH/triggers/manual/run?api-version=2016-06-01&sig=SECRETSIG"
	prod := Policy{}
	insecure := Policy{AllowInsecure: true}
	exact := Policy{AllowedHosts: []string{"hooks.example.com", "*.Example.ORG"}}
	insecureListed := Policy{AllowInsecure: true, AllowedHosts: []string{"localhost"}}
	tests := []struct {
		name   string
		policy Policy
		url    string
		ok     bool
	}{
		{"logic apps regional host", prod, "https://prod-12.westeurope.logic.azure.com:443" + secret, true},
		{"apim host", prod, "https://emea.azure-apim.net" + secret, true},
		{"power automate host", prod, "https://x.powerautomate.com" + secret, true},
		{"power platform host", prod, "https://x.y.environment.api.powerplatform.com" + secret, true},
		{"any port", prod, "https://x.logic.azure.com:8443" + secret, true},
		{"case-insensitive host", prod, "HTTPS://PROD-1.Logic.Azure.COM" + secret, true},
		{"fully qualified name", prod, "https://x.logic.azure.com." + secret, true},
		{"apex not matched by wildcard", prod, "https://logic.azure.com" + secret, false},
		{"suffix without dot boundary", prod, "https://evillogic.azure.com" + secret, false},
		{"allowed name as a prefix", prod, "https://x.logic.azure.com.evil.com" + secret, false},
		{"allowed name in the query", prod, "https://evil.com/?h=x.logic.azure.com&sig=SECRETSIG", false},
		{"host off the list", prod, "https://example.com" + secret, false},
		{"http in production", prod, "http://x.logic.azure.com" + secret, false},
		{"userinfo", prod, "https://user:SECRETPW@x.logic.azure.com" + secret, false},
		{"user without password", prod, "https://SECRETUSER@x.logic.azure.com" + secret, false},
		{"relative path", prod, secret, false},
		{"no scheme", prod, "x.logic.azure.com" + secret, false},
		{"scheme-relative", prod, "//x.logic.azure.com" + secret, false},
		{"ftp", prod, "ftp://x.logic.azure.com" + secret, false},
		{"wss", prod, "wss://x.logic.azure.com" + secret, false},
		{"file", prod, "file:///etc/passwd?SECRET", false},
		{"javascript", prod, "javascript:alert('SECRET')", false},
		{"empty", prod, "", false},
		{"empty host", prod, "https://" + secret, false},
		{"port only", prod, "https://:443" + secret, false},
		{"port zero", prod, "https://x.logic.azure.com:0" + secret, false},
		{"port too large", prod, "https://x.logic.azure.com:65536" + secret, false},
		{"bad escape", prod, "https://x.logic.azure.com/%zzSECRET", false},
		{"control character", prod, "https://x.logic.azure.com/SECRET\n", false},
		{"too long", prod, "https://x.logic.azure.com" + secret + strings.Repeat("a", nimbus.MaxCallbackURL), false},
		{"loopback literal", prod, "https://127.0.0.1" + secret, false},
		{"public literal off the list", prod, "https://20.50.2.1" + secret, false},
		{"exact name", exact, "https://hooks.example.com" + secret, true},
		{"exact name does not match a subdomain", exact, "https://a.hooks.example.com" + secret, false},
		{"wildcard pattern in capitals", exact, "https://a.example.org" + secret, true},
		{"explicit list replaces the default", exact, "https://x.logic.azure.com" + secret, false},
		{"insecure allows http", insecure, "http://localhost:8080" + secret, true},
		{"insecure allows a private literal", insecure, "http://10.0.0.5" + secret, true},
		{"insecure with empty list allows any host", insecure, "https://example.com" + secret, true},
		{"insecure still refuses userinfo", insecure, "http://u:SECRETPW@localhost" + secret, false},
		{"insecure still refuses other schemes", insecure, "ftp://localhost" + secret, false},
		{"insecure applies a non-empty list", insecureListed, "http://127.0.0.1:8080" + secret, false},
		{"insecure with listed host", insecureListed, "http://LOCALHOST:8080" + secret, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.CheckURL(tt.url)
			if got := err == nil; got != tt.ok {
				t.Fatalf("CheckURL: got err %v, want ok %v", err, tt.ok)
			}
			if err == nil {
				return
			}
			var e *nimbus.Error
			if !errors.As(err, &e) || e.Kind != nimbus.KindInvalid || e.Target != "config.url" {
				t.Errorf("got %#v, want a KindInvalid *nimbus.Error with Target config.url", err)
			}
			if got := err.Error(); strings.Contains(got, "SECRET") {
				t.Errorf("message %q echoes the URL's secret parts", got)
			}
		})
	}
}

func TestCheckURLNamesTheHost(t *testing.T) {
	err := Policy{}.CheckURL("https://example.com/path?sig=x")
	if got, want := err.Error(), "the callback host example.com is not allowed"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMatchHost(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"*.logic.azure.com", "a.logic.azure.com", true},
		{"*.logic.azure.com", "a.b.logic.azure.com", true},
		{"*.logic.azure.com", "logic.azure.com", false},
		{"*.logic.azure.com", ".logic.azure.com", false},
		{"*.logic.azure.com", "alogic.azure.com", false},
		{"*.", "a.", false},
		{"*", "anything", false},
		{"hooks.example.com", "hooks.example.com", true},
		{"hooks.example.com", "a.hooks.example.com", false},
	}
	for _, tt := range tests {
		if got := matchHost(tt.pattern, tt.host); got != tt.want {
			t.Errorf("matchHost(%q, %q): got %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}

func TestHostKey(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://A.Logic.Azure.com/x?sig=1", "a.logic.azure.com:443"},
		{"https://a.logic.azure.com:443/y", "a.logic.azure.com:443"},
		{"https://a.logic.azure.com./y", "a.logic.azure.com:443"},
		{"https://a.logic.azure.com:8443/", "a.logic.azure.com:8443"},
		{"http://localhost/", "localhost:80"},
		{"https://[::1]/", "[::1]:443"},
		{"%zz", ""},
	}
	for _, tt := range tests {
		if got := hostKey(tt.url); got != tt.want {
			t.Errorf("hostKey(%q): got %q, want %q", tt.url, got, tt.want)
		}
	}
}
