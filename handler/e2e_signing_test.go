package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// verifyWithNode checks each notification against each secret with the reference Standard
// Webhooks library (scripts/verify-webhook.mjs), which shares no code with ours. Without
// Node.js or the library the test is skipped locally and fails in CI.
func verifyWithNode(t *testing.T, secrets []string, notes ...received) [][]bool {
	t.Helper()
	script, _ := filepath.Abs("../scripts/verify-webhook.mjs")
	module, _ := filepath.Abs("../scripts/node_modules/standardwebhooks/package.json")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(module)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Standard Webhooks verifier needs node and scripts/node_modules/standardwebhooks (scripts/test.sh installs them): %v", err)
		}
		t.Skipf("no independent Standard Webhooks verifier: %v", err)
	}
	type check struct {
		Secret  string            `json:"secret"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	var checks []check
	for _, n := range notes {
		h := map[string]string{}
		for _, name := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
			h[name] = n.header.Get(name)
		}
		for _, s := range secrets {
			checks = append(checks, check{Secret: s, Headers: h, Body: base64.StdEncoding.EncodeToString(n.body)})
		}
	}
	in, _ := json.Marshal(map[string]any{"checks": checks})
	cmd := exec.Command(node, script)
	cmd.Dir = filepath.Dir(script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("verify-webhook.mjs: %v\n%s", err, stderr.String())
	}
	var res struct {
		Results []struct {
			OK bool `json:"ok"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Results) != len(checks) {
		t.Fatalf("verify-webhook.mjs answered %s (%v)", out, err)
	}
	got := make([][]bool, len(notes))
	for i := range notes {
		for j := range secrets {
			got[i] = append(got[i], res.Results[i*len(secrets)+j].OK)
		}
	}
	return got
}

// putSettings exports the demo directory, lets edit change its settings, imports it and
// returns the import's answer, which must not carry any secret.
func (f *flow) putSettings(edit func(s map[string]any), secrets ...string) map[string]any {
	f.t.Helper()
	path := "/admin/v1/tenants/" + f.demo.TenantID + "/directory"
	r := f.call("GET", path, f.admin, nil)
	var dir map[string]any
	if err := json.Unmarshal(r.body, &dir); err != nil || r.status != 200 {
		f.t.Fatalf("export: %d %s", r.status, r.body)
	}
	settings, _ := dir["settings"].(map[string]any)
	if settings == nil {
		settings = map[string]any{}
	}
	edit(settings)
	dir["settings"] = settings
	r = f.call("PUT", path, f.admin, dir)
	if r.status != 200 {
		f.t.Fatalf("import: %d %s", r.status, r.body)
	}
	exported := f.call("GET", path, f.admin, nil)
	for _, s := range secrets {
		key := strings.TrimPrefix(s, "whsec_")
		if strings.Contains(string(r.body), key) || strings.Contains(string(exported.body), key) {
			f.t.Fatalf("a signing secret was returned:\nimport answer %s\nexport %s", r.body, exported.body)
		}
	}
	var out struct {
		Settings map[string]any `json:"settings"`
	}
	if err := json.Unmarshal(exported.body, &out); err != nil {
		f.t.Fatal(err)
	}
	return out.Settings
}

// Signing secrets are write-only, and a rotation signs with both secrets during its grace
// period, as an independent Standard Webhooks verifier confirms (SPEC 4.3).
func TestEndToEndSigningSecretRotation(t *testing.T) {
	f := startFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.trigger(f.owner, "/signed", []string{cc}, []string{"InQueue"}, nil, nil)
	s1 := "whsec_" + base64.StdEncoding.EncodeToString([]byte("first secret of 32 bytes length!"))
	s2 := "whsec_" + base64.StdEncoding.EncodeToString([]byte("second secret, also 32 bytes lon"))
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a secret nobody configured here!"))
	all := []string{s1, s2, other}
	deliver := func(task string, n int) received {
		t.Helper()
		f.ingest(f.ev(task, 1, "InQueue", cc, "Audio", "Inbound"))
		return f.sink.wait("/signed", n, 10*time.Second)[n-1]
	}
	expect := func(step string, note received, signatures int, want ...bool) {
		t.Helper()
		if got := len(strings.Fields(note.header.Get("webhook-signature"))); got != signatures {
			t.Errorf("%s: %d signatures in %q, want %d", step, got, note.header.Get("webhook-signature"), signatures)
		}
		if got := verifyWithNode(t, all, note)[0]; !slices.Equal(got, want) {
			t.Errorf("%s: verified with (first, second, unrelated) secret: %v, want %v", step, got, want)
		}
	}

	settings := f.putSettings(func(s map[string]any) { s["signingSecret"] = s1 }, s1)
	if settings["signingSecretSet"] != true || settings["signingSecretSetAt"] == nil || settings["previousSigningSecretExpiresAt"] != nil {
		t.Errorf("settings after the first secret: %v", settings)
	}
	expect("one secret", deliver("sig-1", 1), 1, true, false, false)

	before := time.Now()
	settings = f.putSettings(func(s map[string]any) { s["signingSecret"] = s2 }, s1, s2)
	until, err := time.Parse(time.RFC3339Nano, asString(settings["previousSigningSecretExpiresAt"]))
	if err != nil || until.Before(before.Add(nimbus.DefaultSigningGrace-time.Minute)) || until.After(time.Now().Add(nimbus.DefaultSigningGrace)) {
		t.Errorf("previousSigningSecretExpiresAt after a rotation: %v (%v)", settings["previousSigningSecretExpiresAt"], err)
	}
	expect("during the grace", deliver("sig-2", 2), 2, true, true, false)

	// Importing the export unchanged keeps both secrets and the grace.
	f.putSettings(func(map[string]any) {}, s1, s2)
	expect("after a round trip", deliver("sig-3", 3), 2, true, true, false)

	settings = f.putSettings(func(s map[string]any) {
		s["previousSigningSecretExpiresAt"] = time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	}, s1, s2)
	if settings["previousSigningSecretExpiresAt"] != nil || settings["signingSecretSet"] != true {
		t.Errorf("settings after ending the grace: %v", settings)
	}
	expect("after the grace", deliver("sig-4", 4), 1, false, true, false)

	settings = f.putSettings(func(s map[string]any) { s["signingSecret"] = "" })
	if settings["signingSecretSet"] != nil {
		t.Errorf("settings after removing the secret: %v", settings)
	}
	if note := deliver("sig-5", 5); note.header.Get("webhook-signature") != "" {
		t.Errorf("signed after the secret was removed: %q", note.header.Get("webhook-signature"))
	}
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}
