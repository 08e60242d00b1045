package main

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/app"
)

// A burst to one subscription at the default cap of 4 attempts in flight, with more tasks
// waiting than the slots serve within a worker's wait, puts deliveries off. A put-off
// delivery's later task-mates wait behind it without each going round the queue again and
// again: the burst costs at most one put-off per delivered event, and keeps every task's order.
func TestDeliveryPutOffsOfABurstStayBounded(t *testing.T) {
	f := startFlow(t, nil)
	cc := f.demo.Services.ContactCenter
	f.trigger(f.owner, "/burst", []string{cc}, []string{"ParameterUpdated"}, nil, nil)
	f.sink.slowly("/burst", 50*time.Millisecond)
	const tasks, events = 200, 8
	var all []map[string]any
	for i := range tasks {
		for seq := 1; seq <= events; seq++ {
			e := f.ev(fmt.Sprintf("burst-%d", i), seq, "ParameterUpdated", cc, "Audio", "Inbound")
			e["parameter"] = map[string]string{"name": "step", "value": strconv.Itoa(seq)}
			all = append(all, e)
		}
	}
	for len(all) > 0 {
		n := min(len(all), 250)
		f.ingest(all[:n]...)
		all = all[n:]
	}
	got := f.sink.wait("/burst", tasks*events, 90*time.Second)
	last := map[string]int{}
	disorder := 0
	for _, r := range got {
		task := field(r, "taskId")
		seq, _ := strconv.Atoi(field(r, "sequence"))
		if seq < last[task] {
			disorder++
		}
		last[task] = max(last[task], seq)
	}
	if disorder > 0 {
		t.Errorf("%d notifications arrived out of their task's sequence order", disorder)
	}
	var rep app.StatsReport
	deadline := time.Now().Add(10 * time.Second)
	for {
		rep = f.stats(t, f.admin, "")
		if rep.Deliveries[app.OutcomeDelivered] >= tasks*events || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	delivered, putOff := rep.Deliveries[app.OutcomeDelivered], rep.Deliveries[app.OutcomePutOff]
	t.Logf("%d delivered, %d put-offs (%.2f per event)", delivered, putOff, float64(putOff)/float64(max(delivered, 1)))
	if delivered != tasks*events {
		t.Errorf("%d delivered, want %d", delivered, tasks*events)
	}
	if putOff > delivered {
		t.Errorf("%d put-offs for %d delivered events, want at most one per event", putOff, delivered)
	}
}
