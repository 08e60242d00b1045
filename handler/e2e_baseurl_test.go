package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// registerWithHeaders registers a task trigger with extra request headers and returns the
// Location answered, and the dev metadata's jwks_uri asked with the same headers.
func (f *flow) registerWithHeaders(headers map[string]string) (location, jwks string) {
	f.t.Helper()
	body, _ := json.Marshal(map[string]any{"config": map[string]any{"url": f.sink.url("/base"), "services": []string{f.demo.Services.ContactCenter}, "taskEvents": []string{"InQueue"}}})
	do := func(method, path string, body []byte) *http.Response {
		req, _ := http.NewRequest(method, f.base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+f.owner)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			f.t.Fatal(err)
		}
		return res
	}
	res := do("POST", "/v1/triggers/tasks", body)
	res.Body.Close()
	if res.StatusCode != 201 {
		f.t.Fatalf("register: %d", res.StatusCode)
	}
	location = res.Header.Get("Location")
	res = do("GET", "/dev/.well-known/openid-configuration", nil)
	defer res.Body.Close()
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &doc); err != nil {
		f.t.Fatalf("metadata %s: %v", b, err)
	}
	return location, doc.JWKSURI
}

// Absolute URLs follow the configured base URL, else the listener's own address; a request's
// Host or X-Forwarded-* headers decide only when a setting says the proxy is trusted.
func TestEndToEndBaseURLIgnoresRequestHost(t *testing.T) {
	attacker := map[string]string{"Host": "attacker.example", "X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "https"}
	tests := []struct {
		name string
		env  map[string]string
		want func(f *flow) string
	}{
		{"unconfigured", map[string]string{}, func(f *flow) string { return f.base }},
		{"configured base URL", map[string]string{"NIMBUS_PUBLIC_BASE_URL": "https://nimbus.example.com/"}, func(*flow) string { return "https://nimbus.example.com" }},
		{"trusted proxy", map[string]string{"NIMBUS_TRUST_FORWARDED_HEADERS": "true"}, func(*flow) string { return "https://attacker.example" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFlow(t, tt.env)
			loc, jwks := f.registerWithHeaders(attacker)
			want := tt.want(f)
			if !strings.HasPrefix(loc, want+"/v1/triggers/tasks/") {
				t.Errorf("Location %q, want it under %s", loc, want)
			}
			if jwks != want+"/dev/keys" {
				t.Errorf("jwks_uri %q, want %s/dev/keys", jwks, want)
			}
		})
	}
}
