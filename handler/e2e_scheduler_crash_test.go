package main

import (
	"encoding/json"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// kill -9 while 1,000 entries fire, then restart on the same data: every entry's attempt
// reaches core as OutboundCallRequested with the one commandId of that attempt (a command
// may arrive twice, never under two ids), every entry's DueDateReached is notified, and no
// entry is lost or stuck.
func TestSchedulerSurvivesKill9WhileFiring(t *testing.T) {
	if testing.Short() {
		t.Skip("fires a thousand scheduler entries")
	}
	const entries = 1000
	data := t.TempDir()
	env := schedulerEnv()
	env["NIMBUS_DATA_DIR"] = data
	env["NIMBUS_SCHEDULER_TIMEOUT_GRACE"] = "1h" // no attempt times out during the test
	f := startSchedulerFlow(t, env)
	cc := f.demo.Services.ContactCenter
	f.schedTrigger(f.owner, "/sched", []string{cc}, []string{"DueDateReached"})

	// The kill lands once a fifth of the attempts reached core, whether or not every entry
	// was created by then; only entries whose creation was answered 200 count.
	killed := make(chan int)
	go func() {
		for len(f.sink.at("/core")) < entries/5 {
			time.Sleep(2 * time.Millisecond)
		}
		_ = f.cmd.Process.Signal(syscall.SIGKILL)
		killed <- len(f.sink.at("/core"))
	}()
	due := time.Now().Add(6 * time.Second)
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				r, err := f.tryCall("POST", "/v1/scheduler-entries", f.owner, f.entryBody(due, nil))
				var e entry
				if err == nil && r.status == 200 && json.Unmarshal(r.body, &e) == nil {
					mu.Lock()
					ids = append(ids, e.ID)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range entries {
		work <- i
	}
	close(work)
	wg.Wait()
	var atKill int
	select {
	case atKill = <-killed:
	case <-time.After(90 * time.Second):
		t.Fatalf("only %d commands reached core", len(f.sink.at("/core")))
	}
	_ = f.cmd.Wait()
	if len(ids) < entries/2 {
		t.Fatalf("only %d of %d entries were created before the kill", len(ids), entries)
	}

	restarted := start(t, env)
	commandsOf := func() map[string]map[string]bool {
		out := map[string]map[string]bool{}
		for _, r := range f.sink.at("/core") {
			var c nimbus.Command
			if json.Unmarshal(r.body, &c) != nil || c.OutboundCall == nil {
				continue
			}
			if out[c.OutboundCall.SchedulerEntryID] == nil {
				out[c.OutboundCall.SchedulerEntryID] = map[string]bool{}
			}
			out[c.OutboundCall.SchedulerEntryID][c.CommandID] = true
		}
		return out
	}
	// The entries as stored: those created with a 200, and any whose answer the kill cut off.
	r := restarted.call("GET", "/v1/scheduler-entries?serviceUpn="+cc, f.owner, nil)
	var list []entry
	if err := json.Unmarshal(r.body, &list); err != nil || r.status != 200 {
		t.Fatalf("list after restart: %d %.200s", r.status, r.body)
	}
	stored := map[string]bool{}
	for _, e := range list {
		stored[e.ID] = true
	}
	for _, id := range ids {
		if !stored[id] {
			t.Errorf("entry %s was created and is lost", id)
		}
	}
	if atKill >= len(list) {
		t.Fatalf("the kill did not land while entries fired: %d commands sent for %d entries", atKill, len(list))
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		got := commandsOf()
		notified := map[string]bool{}
		for _, r := range f.sink.at("/sched") {
			notified[field(r, "schedulerEntryId")] = true
		}
		missing, unnotified := 0, 0
		for id := range stored {
			if len(got[id]) == 0 {
				missing++
			}
			if !notified[id] {
				unnotified++
			}
		}
		if missing == 0 && unnotified == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restart: %d of %d entries never requested their call, %d never notified", missing, len(stored), unnotified)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for id, cmds := range commandsOf() {
		want := nimbus.OutboundCommandID(f.demo.TenantID, id, 1)
		if len(cmds) != 1 || !cmds[want] {
			t.Errorf("entry %s: commands %v, want only %s", id, cmds, want)
		}
	}
	// None is stuck: every entry is in progress, waiting for core's outcome.
	r = restarted.call("GET", "/v1/scheduler-entries?serviceUpn="+cc, f.owner, nil)
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != len(stored) {
		t.Fatalf("list at the end: %d entries, want %d", len(list), len(stored))
	}
	for _, e := range list {
		if e.Event != "DueDateReached" {
			t.Errorf("entry %s is %s after restart", e.ID, e.Event)
		}
	}
	t.Logf("killed after %d commands; %d entries (%d answered 200); %d commands reached core in all", atKill, len(stored), len(ids), len(f.sink.at("/core")))
}
