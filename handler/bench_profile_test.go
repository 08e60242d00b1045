package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestProfilePipeline runs the handler in this process (run, as main does) and pushes the
// pipeline benchmark's burst through it, so that `go test -cpuprofile` sees where the
// handler's time goes. It runs only with NIMBUS_BENCH=profile; scripts/bench.sh profile runs
// it and prints the top of the profile. The profile holds the ingest clients and the sink too
// (the benchmark's own cost); the handler's share is in the handler packages.
func TestProfilePipeline(t *testing.T) {
	if os.Getenv("NIMBUS_BENCH") != "profile" {
		t.Skip("set NIMBUS_BENCH=profile to profile the pipeline (scripts/bench.sh profile)")
	}
	n := max(benchEnvInt(t, "NIMBUS_BENCH_EVENTS", 20000)/1000, 1) * 1000
	port := freePort(t)
	env := map[string]string{
		"NIMBUS_ADDR": fmt.Sprintf("127.0.0.1:%d", port), "NIMBUS_DATA_DIR": t.TempDir(), "NIMBUS_LOG_LEVEL": "warn",
		"HOME": t.TempDir(), "PATH": os.Getenv("PATH"),
	}
	// As in TestBenchPipeline's (b): the cap per subscription at the raw baseline's concurrency.
	env["NIMBUS_CALLBACK_MAX_PER_SUBSCRIPTION"] = "64"
	if v := os.Getenv("NIMBUS_CALLBACK_MAX_PER_SUBSCRIPTION"); v != "" {
		env["NIMBUS_CALLBACK_MAX_PER_SUBSCRIPTION"] = v
	}
	if dir := os.Getenv("NIMBUS_BENCH_DATA_DIR"); dir != "" {
		d, err := os.MkdirTemp(dir, "nimbus-profile-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		env["NIMBUS_DATA_DIR"] = d
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, io.Discard, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	p := &proc{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if res, err := http.Get(p.base + "/"); err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("handler did not answer GET /")
		}
	}
	f := &flow{proc: p, demo: p.demo()}
	f.owner = p.token(f.demo.TenantID, f.demo.Users.ServiceOwner)
	f.core = p.coreToken(f.demo.OperatorTenantID) // the internal API takes the operator tenant's core app
	s := newBenchSink(t)
	cc := f.demo.Services.ContactCenter
	all := []string{"WorkflowStarted", "SystemAccepted", "ParameterUpdated", "InQueue", "QueueLeft", "ConnectedToUser", "Terminated"}
	if r := f.call("POST", "/v1/triggers/tasks", f.owner, map[string]any{"config": map[string]any{"url": s.srv.URL + "/flow", "services": []string{cc}, "taskEvents": all}}); r.status != 201 {
		t.Fatalf("register trigger: %d %s", r.status, r.body)
	}
	c := &benchCore{f: f, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}}
	burst := benchBurst(t, s, c, cc, "pf-", n, 1000, 4, 100, os.Getpid())
	single := benchBurst(t, s, c, cc, "ps-", n, 1000, benchSenders, 1, os.Getpid())
	fmt.Printf("BENCH\tprofiled burst, batches of 100\t%.0f events/s\t\t\n", burst.rate)
	fmt.Printf("BENCH\tprofiled burst, one event per request\t%.0f events/s\t\t\n", single.rate)
	fmt.Printf("BENCH\tprocess CPU per event (handler, clients, sink)\t%v\t\t\n", ((burst.cpuSelf + single.cpuSelf) / time.Duration(2*n)).Round(time.Microsecond))
}
