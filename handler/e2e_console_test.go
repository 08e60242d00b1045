package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// consoleBrowser is the Chromium the console test drives; scripts/test.sh installs it.
func consoleBrowser(t *testing.T) (chromium, script string) {
	t.Helper()
	chromium = os.Getenv("NIMBUS_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	script, err := filepath.Abs("../scripts/console-test.mjs")
	if err != nil {
		t.Fatal(err)
	}
	missing := ""
	if _, err := os.Stat(chromium); err != nil {
		missing = chromium + " (apt-get install chromium)"
	} else if _, err := os.Stat("../scripts/node_modules/playwright-core/package.json"); err != nil {
		missing = "playwright-core (npm ci --prefix scripts)"
	} else if _, err := exec.LookPath("node"); err != nil {
		missing = "node"
	}
	if missing != "" {
		// scripts/test.sh provides all three; in CI their absence is a failure, not a skip.
		if os.Getenv("CI") == "true" {
			t.Fatalf("the console test needs %s", missing)
		}
		t.Skipf("the console test needs %s; scripts/test.sh installs it", missing)
	}
	return chromium, script
}

// The admin console, in a real headless browser against the real binary: a tenant admin
// signs in through the dev issuer, sees the subscription and its failed attempts, replays the
// dead letter and sees it delivered, and watches the counters; the operator acts on the
// tenant; and an Entra sign-in (authorization code with PKCE) against a stand-in authority,
// which the browser script answers, lets the tenant admin in too.
func TestEndToEndConsoleInBrowser(t *testing.T) {
	chromium, script := consoleBrowser(t)
	entra := map[string]string{
		"NIMBUS_CONSOLE_AUTHORITY": "https://login.nimbusflow.test/organizations",
		"NIMBUS_CONSOLE_CLIENT_ID": "console-test-client",
		"NIMBUS_CONSOLE_SCOPE":     "api://nimbusflow-dev/user_impersonation",
	}
	f := startFlow(t, maps.Clone(entra))
	cc := f.demo.Services.ContactCenter
	// The callback fails first (a retry, then a permanent 400: a dead letter) and then works.
	f.sink.script("/console-cb", answer{status: 503}, answer{status: 400})
	sub := f.trigger(f.owner, "/console-cb", []string{cc}, []string{"InQueue"}, nil, nil)
	ev := f.ev("console", 1, "InQueue", cc, "Audio", "Inbound")
	f.ingest(ev)
	f.sink.wait("/console-cb", 2, 15*time.Second)
	f.deadLetters(t, sub, 1, 10*time.Second)
	// Three more dead letters, of another subscription, to replay as a selection and by time.
	f.sink.script("/console-more", answer{status: 400}, answer{status: 400}, answer{status: 400})
	more := f.trigger(f.owner, "/console-more", []string{cc}, []string{"SystemAccepted"}, nil, nil)
	var moreIDs []string
	for i := range 3 {
		e := f.ev(fmt.Sprintf("console-more-%d", i), 1, "SystemAccepted", cc, "Audio", "Inbound")
		moreIDs = append(moreIDs, e["eventId"].(string))
		f.ingest(e)
	}
	f.deadLetters(t, more, 3, 15*time.Second)

	shots := os.Getenv("NIMBUS_CONSOLE_SCREENSHOTS")
	if shots == "" {
		// Kept after the test: the screenshots are its artefacts.
		dir, err := os.MkdirTemp("", "nimbusflow-console-")
		if err != nil {
			t.Fatal(err)
		}
		shots = dir
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Env = append(os.Environ(),
		"NIMBUS_CONSOLE_BASE="+f.base,
		"NIMBUS_CONSOLE_SUBSCRIPTION="+sub,
		"NIMBUS_CONSOLE_EVENT="+ev["eventId"].(string),
		"NIMBUS_CONSOLE_MORE_EVENTS="+strings.Join(moreIDs, ","),
		// Four events; one retry (503); four dead letters (400); four replays delivered.
		"NIMBUS_CONSOLE_EXPECT=accepted=4,delivered=4,retried=1,deadLettered=4",
		"NIMBUS_CONSOLE_SCREENSHOTS="+shots,
		"NIMBUS_CHROMIUM="+chromium,
	)
	for k, v := range entra {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	t.Logf("console test output:\n%s", out)
	if err != nil {
		t.Fatalf("console test in the browser: %v", err)
	}
	// The replay the browser asked for reached the callback, with the same webhook-id.
	got := f.sink.wait("/console-cb", 3, 15*time.Second)
	if got[2].header.Get("webhook-id") != got[1].header.Get("webhook-id") {
		t.Errorf("the replay changed the webhook-id")
	}
	f.sink.wait("/console-more", 6, 15*time.Second)
	if !strings.Contains(string(out), "all steps passed") {
		t.Errorf("the console test did not report success")
	}
	t.Logf("console screenshots: %s", shots)
}
