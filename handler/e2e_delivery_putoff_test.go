package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/app"
)

// A burst to one subscription at the default cap of 4 attempts in flight, with more tasks
// waiting than the slots serve within a worker's wait, puts deliveries off. A put-off
// delivery's later task-mates wait behind it without each going round the queue again and
// again: a delivery is put off about once (hardly ever again), the burst costs at most one
// put-off per delivered event, and every task keeps its order.
func TestDeliveryPutOffsOfABurstStayBounded(t *testing.T) {
	f := startFlow(t, map[string]string{"NIMBUS_LOG_LEVEL": "debug", "NIMBUS_LOG_FORMAT": "json"})
	cc := f.demo.Services.ContactCenter
	f.trigger(f.owner, "/burst", []string{cc}, []string{"ParameterUpdated"}, nil, nil)
	f.sink.slowly("/burst", 50*time.Millisecond)
	const tasks, events = 100, 10
	postParameterBursts(f, cc, "burst-", tasks, events)
	disorder := 0
	for _, n := range outOfOrder(t, f.sink.wait("/burst", tasks*events, 90*time.Second)) {
		disorder += n
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
	// Each put-off is logged (at debug level) with its event: one subscription, so an event
	// is one delivery.
	per := map[string]int{}
	reasons := map[string]int{}
	for _, l := range f.logLines(t, "delivery put off") {
		per[fmt.Sprint(l["eventId"])]++
		reasons[fmt.Sprint(l["reason"])]++
	}
	again, most := 0, 0
	for _, n := range per {
		again += n - 1
		most = max(most, n)
	}
	t.Logf("%d delivered; %d put-offs (%.2f per event) of %d deliveries, %d of them a repeat, at most %d of one delivery, reasons %v",
		delivered, putOff, float64(putOff)/float64(max(delivered, 1)), len(per), again, most, reasons)
	if delivered != tasks*events {
		t.Errorf("%d delivered, want %d", delivered, tasks*events)
	}
	if putOff == 0 {
		t.Fatal("no delivery was put off: the burst did not exercise put-offs")
	}
	if again > putOff/10 {
		t.Errorf("%d of %d put-offs put the same delivery off again, want at most one in ten", again, putOff)
	}
	if putOff > delivered {
		t.Errorf("%d put-offs for %d delivered events, want at most one per event", putOff, delivered)
	}
}
