// Package sim plays Nimbus core against a running handler: it sends realistic task traffic
// in the published core contract (connector/core-contract), answers the commands the handler
// sends to core (TaskUpdated, ExternalTaskAdded, ExternalTaskRemoved, OutboundCallRequested),
// reports outbound attempts and stores virtual-assistant transcripts. It also holds the
// living demo (a printing callback sink that plays a maker's flows).
//
// The workflow model (model.go, model_core.go) is pure and deterministic for a seed; the
// runner (runner.go, play.go) turns plans into timed events; the client (client.go) speaks
// HTTP to the handler. The simulator sees the handler only through its HTTP API, as core
// does: it imports the nimbus vocabulary for the message shapes and nothing of app, httpapi
// or the adapters.
package sim
