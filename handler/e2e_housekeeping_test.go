package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// Housekeeping runs on its own standalone (NIMBUS_HOUSEKEEPING_INTERVAL), and under the
// Functions host when the Housekeeping timer invokes /Housekeeping.
func TestHousekeepingRuns(t *testing.T) {
	t.Run("Standalone", func(t *testing.T) {
		p := start(t, map[string]string{"NIMBUS_DATA_DIR": t.TempDir(), "NIMBUS_HOUSEKEEPING_INTERVAL": "100ms"})
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(p.stderr.String(), "housekeeping done") < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("housekeeping did not run twice within 10s at a 100ms interval\nstderr:\n%s", p.stderr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("FunctionsTimer", func(t *testing.T) {
		port := freePort(t)
		p := start(t, map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": fmt.Sprint(port), "NIMBUS_DEV_AUTH": "true", "NIMBUS_DATA_DIR": t.TempDir()})
		raw, err := os.ReadFile("funchost/testdata/timer.json")
		if err != nil {
			t.Fatal(err)
		}
		var inv map[string]any
		if err := json.Unmarshal(raw, &inv); err != nil {
			t.Fatal(err)
		}
		logs := func() string { return p.stdout.String() + p.stderr.String() }
		if strings.Contains(logs(), "housekeeping done") {
			t.Fatal("housekeeping ran before the timer fired")
		}
		r := p.call("POST", "/Housekeeping", "", inv)
		if r.status != 200 {
			t.Fatalf("Housekeeping invocation: %d %s", r.status, r.body)
		}
		// The log line travels through the child's output pipe: poll for it.
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(logs(), "housekeeping done") {
			if time.Now().After(deadline) {
				t.Fatalf("the invocation answered 200 without running housekeeping\nlogs:\n%s", logs())
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
