package main

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

// kill -9 in the middle of a burst, then restart on the same data: every event that was
// accepted (202) reaches every matching subscription. Duplicates are allowed, losses are not.
func TestPipelineSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("burst of thousands of events")
	}
	const batches, perBatch, tasks = 40, 100, 50
	data := t.TempDir()
	f := startFlow(t, map[string]string{"NIMBUS_DATA_DIR": data})
	cc := f.demo.Services.ContactCenter
	f.trigger(f.owner, "/a", []string{cc}, []string{"ParameterUpdated"}, nil, nil)
	f.trigger(f.admin, "/b", []string{cc}, []string{"ParameterUpdated"}, []string{"Audio"}, []string{"Inbound"})

	var mu sync.Mutex
	accepted := map[string]bool{}
	seqs := make([]int, tasks)
	killed := make(chan struct{})
	go func() {
		// Kill once roughly a third of the burst is in.
		for {
			mu.Lock()
			n := len(accepted)
			mu.Unlock()
			if n >= batches*perBatch/3 {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		_ = f.cmd.Process.Signal(syscall.SIGKILL)
		close(killed)
	}()
	for b := 0; b < batches; b++ {
		var batch []map[string]any
		var ids []string
		for i := 0; i < perBatch; i++ {
			task := (b*perBatch + i) % tasks
			seqs[task]++
			e := f.ev(fmt.Sprintf("crash-%d", task), seqs[task], "ParameterUpdated", cc, "Audio", "Inbound")
			e["parameter"] = map[string]string{"name": "n", "value": fmt.Sprint(seqs[task])}
			batch = append(batch, e)
			ids = append(ids, e["eventId"].(string))
		}
		r, err := f.tryCall("POST", "/internal/v1/task-events", f.core, batch)
		if err != nil {
			break // the handler is gone; this batch was not accepted
		}
		if r.status == 202 {
			mu.Lock()
			for _, id := range ids {
				accepted[id] = true
			}
			mu.Unlock()
		}
	}
	<-killed
	_ = f.cmd.Wait()
	mu.Lock()
	total := len(accepted)
	mu.Unlock()
	if total == 0 || total == batches*perBatch {
		t.Fatalf("the kill did not land mid-burst: %d of %d events accepted", total, batches*perBatch)
	}

	start(t, map[string]string{"NIMBUS_DATA_DIR": data, "NIMBUS_RETRY_SCHEDULE": "200ms,400ms,800ms"})
	for _, path := range []string{"/a", "/b"} {
		deadline := time.Now().Add(90 * time.Second)
		for {
			seen := map[string]bool{}
			for _, r := range f.sink.at(path) {
				seen[field(r, "eventId")] = true
			}
			missing := 0
			for id := range accepted {
				if !seen[id] {
					missing++
				}
			}
			if missing == 0 {
				t.Logf("%s: all %d accepted events delivered (%d notifications incl. duplicates)", path, total, len(f.sink.at(path)))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d of %d accepted events never delivered", path, missing, total)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
