package main

import (
	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/embedded"
)

// queueGauges reports the embedded queue's backlog; nil with Service Bus, whose figures
// come from Azure Monitor.
func queueGauges(qs *embedded.Queues) app.QueueGauges {
	if qs == nil {
		return nil
	}
	return func() []app.QueueGauge {
		stats := qs.Stats()
		out := make([]app.QueueGauge, len(stats))
		for i, s := range stats {
			out[i] = app.QueueGauge{Name: s.Name, Depth: s.Depth, OldestAgeSeconds: s.OldestDue.Seconds()}
		}
		return out
	}
}
