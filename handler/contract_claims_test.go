package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/embedded"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// TestContractClaimReferenceReadByCore plays core reading the commands queue itself (as on
// Service Bus): without NIMBUS_CORE_COMMANDS_URL a command too large for a message waits on
// the queue as a claim reference. The reference matches claim-reference.schema.json, and
// core reads the whole command through GET /internal/v1/claims/{id}?tenantId=, which
// matches command.schema.json.
func TestContractClaimReferenceReadByCore(t *testing.T) {
	schemas := compileContract(t)
	data := t.TempDir()
	f := startFlow(t, map[string]string{"NIMBUS_DATA_DIR": data})
	cc := f.demo.Services.ContactCenter
	f.ingest(f.ev("claim-call", 1, "WorkflowStarted", cc, "Audio", "Inbound"))
	params, custom := largeTaskInformation("k")
	update := map[string]any{"customer": map[string]any{"firstName": "Ada", "customFields": custom}, "customContextParameters": params}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := f.call("PUT", "/v1/tasks/claim-call", f.owner, update)
		if r.status == 200 {
			break
		}
		if r.status != 404 || time.Now().After(deadline) {
			t.Fatalf("update task: %d %.300s", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Update task answers once its command is queued; stop the handler to read the queue.
	f.proc.stop()
	ref := takeQueued(t, filepath.Join(data, "nimbus.db"), nimbus.QueueCommands)
	for _, s := range []string{"claim-reference.schema.json", "command-message.schema.json"} {
		if err := schemas[s].Validate(readInstance(t, ref)); err != nil {
			t.Errorf("queued message does not match %s: %v\n%.300s", s, err, ref)
		}
	}
	var claim nimbus.ClaimRef
	if err := json.Unmarshal(ref, &claim); err != nil || claim.Claim.ID == "" {
		t.Fatalf("queued message is not a claim reference: %v %.300s", err, ref)
	}
	for _, path := range keyPaths("", exampleMap(t, "claim-reference.json")) {
		var got map[string]any
		if json.Unmarshal(ref, &got) != nil || !hasKeyPath(got, path) {
			t.Errorf("example claim-reference.json has %s, which the queued reference does not carry", path)
		}
	}

	// Core reads the command with its Nimbus.Core token.
	g := startFlow(t, map[string]string{"NIMBUS_DATA_DIR": data})
	claimPath := "/internal/v1/claims/" + claim.Claim.ID + "?tenantId=" + claim.Claim.TenantID
	r := g.call("GET", claimPath, g.core, nil)
	if r.status != 200 || len(r.body) != claim.Claim.Bytes {
		t.Fatalf("read claim: %d, %d bytes, want 200 with %d bytes", r.status, len(r.body), claim.Claim.Bytes)
	}
	if err := schemas["command.schema.json"].Validate(readInstance(t, r.body)); err != nil {
		t.Errorf("claimed command does not match command.schema.json: %v", err)
	}
	var cmd nimbus.Command
	if err := json.Unmarshal(r.body, &cmd); err != nil || cmd.Type != nimbus.CommandTaskUpdated || cmd.TaskID != "claim-call" || cmd.Changes == nil || len(cmd.Changes.CustomContextParameters) != nimbus.MaxTaskParameters {
		t.Errorf("claimed command is not the whole TaskUpdated: %v %.300s", err, r.body)
	}
	if r := g.call("GET", claimPath, g.owner, nil); r.status != 403 {
		t.Errorf("claim read with a user token: %d, want 403", r.status)
	}
	other := "/internal/v1/claims/" + claim.Claim.ID + "?tenantId=0f0e0d0c-0b0a-4908-8706-050403020100"
	if r := g.call("GET", other, g.core, nil); r.status != 404 {
		t.Errorf("claim read under another tenant: %d, want 404", r.status)
	}
	if r := g.call("GET", "/internal/v1/claims/"+claim.Claim.ID, g.core, nil); r.status != 400 {
		t.Errorf("claim read without tenantId: %d, want 400", r.status)
	}
}

// takeQueued opens the stopped handler's embedded store and takes the first message of the
// queue, as a consumer of that queue would.
func takeQueued(t *testing.T, path, queue string) []byte {
	t.Helper()
	db, err := embedded.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	qs := db.Queues(embedded.QueueOptions{Logger: slog.New(slog.DiscardHandler)})
	got := make(chan []byte, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- qs.Run(ctx, queue, func(_ context.Context, m nimbus.Message) error {
			select {
			case got <- m.Body:
			default:
			}
			return nil
		}, 1)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("consume %s: %v", queue, err)
		}
	}()
	select {
	case body := <-got:
		return body
	case err := <-done:
		done <- err
		t.Fatalf("consume %s ended: %v", queue, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("queue %s in %s holds no message", queue, path)
	}
	return nil
}
