package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// benchSetup starts a handler with env and a bench sink, registers one trigger for every
// task event, and warms up: a few task lifecycles, so connections, caches and the bbolt file
// exist, and so the baseline can post a notification exactly as the pipeline writes them
// (template).
func benchSetup(t *testing.T, env map[string]string) (f *flow, s *benchSink, c *benchCore, cc string, pid int, template []byte) {
	t.Helper()
	f = startFlow(t, env)
	s = newBenchSink(t)
	c = &benchCore{f: f, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}}
	cc = f.demo.Services.ContactCenter
	all := []string{"WorkflowStarted", "SystemAccepted", "ParameterUpdated", "InQueue", "QueueLeft", "ConnectedToUser", "Terminated"}
	r := f.call("POST", "/v1/triggers/tasks", f.owner, map[string]any{"config": map[string]any{"url": s.srv.URL + "/flow", "services": []string{cc}, "taskEvents": all}})
	if r.status != 201 {
		t.Fatalf("register trigger: %d %s", r.status, r.body)
	}
	pid = f.cmd.Process.Pid

	warm := s.begin("warm-", 200, true)
	var batch []nimbus.IngestEvent
	for i := range 200 {
		batch = append(batch, benchEvent(f, cc, "warm-", i, fmt.Sprintf("warm-%d", i%20), i/20+1, 10))
	}
	c.post(t, benchJSON(t, batch))
	if t.Failed() {
		t.FailNow()
	}
	if !warm.wait(30 * time.Second) {
		t.Fatalf("warm-up: %d of 200 notifications arrived", warm.unique.Load())
	}
	template = warm.medianBody()
	return f, s, c, cc, pid, template
}
