// Package sim plays Nimbus core against a running handler: it sends realistic task traffic
// in the published core contract (connector/core-contract), answers the commands the handler
// sends to core (TaskUpdated, ExternalTaskAdded, ExternalTaskRemoved, OutboundCallRequested),
// reports outbound attempts and stores virtual-assistant transcripts.
//
// The workflow model (model.go) is pure and deterministic for a seed; the runner (runner.go)
// turns plans into timed events; the client (client.go) speaks HTTP to the handler.
package sim
