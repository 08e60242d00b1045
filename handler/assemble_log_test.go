package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// The embedded queue logs through the handler's logger (JSON here), not the default one.
func TestEmbeddedQueueLogsThroughTheHandlersLogger(t *testing.T) {
	env := map[string]string{"NIMBUS_DATA_DIR": t.TempDir(), "NIMBUS_LOG_FORMAT": "json"}
	cfg, err := loadConfig(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	log := newLogger(cfg, &out)
	a := &assembly{}
	t.Cleanup(a.close)
	if _, _, err := openStorage(t.Context(), cfg, a, log); err != nil {
		t.Fatal(err)
	}
	if err := a.queues.Queue("probe").Send(t.Context(), nimbus.Message{ID: "m1", Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- a.queues.Run(ctx, "probe", func(context.Context, nimbus.Message) error { panic("probe") }, 1)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "queue handler panicked") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] == "queue handler panicked" && m["queue"] == "probe" && m["messageId"] == "m1" {
			return
		}
	}
	t.Fatalf("no JSON log line of the queue's panic:\n%s", out.String())
}
