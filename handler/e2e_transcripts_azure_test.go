package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// The whole virtual-assistant flow against Azurite: transcripts in the Blob service, the
// notified content in the Table service.
func TestVirtualAssistantAgainstAzurite(t *testing.T) {
	cs := azurite(t)
	f := startFlow(t, map[string]string{"NIMBUS_STORAGE": cs, "NIMBUS_DEV_AUTH": "true"})
	cc := f.demo.Services.ContactCenter
	if r := f.registerVA(f.owner, "/va-azure", cc); r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	session := fmt.Sprintf("azurite-%d", time.Now().UnixNano())
	body := f.transcript("azure-task-"+session, 4, "azure")
	for range 2 {
		if r := f.call("PUT", "/internal/v1/transcripts/"+session, f.core, body); r.status != 202 {
			t.Fatalf("store: %d %s", r.status, r.body)
		}
	}
	got := f.sink.wait("/va-azure", 1, 30*time.Second)
	if field(got[0], "serviceSessionId") != session || field(got[0], "event") != nimbus.EventVoiceTranscriptionReady {
		t.Errorf("notification: %s", got[0].body)
	}
	v := f.readTranscript(t, session)
	if len(v.Segments) != 4 || v.Segments[3].Text != "3 azure" {
		t.Errorf("transcript: %+v", v)
	}
	r := f.call("GET", "/v1/virtual-assistant/"+session+"/transcriptionData/Summary", f.owner, nil)
	var sum nimbus.TranscriptSummary
	if err := json.Unmarshal(r.body, &sum); err != nil || r.status != 200 || sum.Issue != "Double charge azure" {
		t.Errorf("summary: %d %s", r.status, r.body)
	}
}
