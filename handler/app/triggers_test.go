package app

import (
	"errors"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func TestRegisterTaskTriggerValidation(t *testing.T) {
	p := newPipe(t)
	d := p.demo
	cc := d.Services.ContactCenter
	tests := []struct {
		name   string
		who    string
		edit   func(c *nimbus.TaskTriggerConfig)
		kind   nimbus.Kind
		target string
	}{
		{"valid", d.Users.ServiceOwner, func(c *nimbus.TaskTriggerConfig) {}, "", ""},
		{"no url", d.Users.ServiceOwner, func(c *nimbus.TaskTriggerConfig) { c.Config.URL = "" }, nimbus.KindInvalid, "config.url"},
		{"url refused by policy", d.Users.ServiceOwner, func(c *nimbus.TaskTriggerConfig) { c.Config.URL = "https://forbidden.example/x" }, nimbus.KindInvalid, "config.url"},
		{"no services", d.Users.ServiceOwner, func(c *nimbus.TaskTriggerConfig) { c.Config.Services = nil }, nimbus.KindInvalid, "config.services"},
		{"no events", d.Users.ServiceOwner, func(c *nimbus.TaskTriggerConfig) { c.Config.TaskEvents = nil }, nimbus.KindInvalid, "config.taskEvents"},
		{"unknown event", d.Users.ServiceOwner, func(c *nimbus.TaskTriggerConfig) { c.Config.TaskEvents = []nimbus.TaskEvent{"InQueue", "Queued"} }, nimbus.KindInvalid, "config.taskEvents[1]"},
		{"unknown modality", d.Users.ServiceOwner, func(c *nimbus.TaskTriggerConfig) { c.Config.Modalities = []nimbus.Modality{"Fax"} }, nimbus.KindInvalid, "config.modalities[0]"},
		{"unknown direction", d.Users.ServiceOwner, func(c *nimbus.TaskTriggerConfig) { c.Config.Directions = []nimbus.Direction{"Sideways"} }, nimbus.KindInvalid, "config.directions[0]"},
		{"unknown service", d.Users.ServiceOwner, func(c *nimbus.TaskTriggerConfig) { c.Config.Services = []string{cc, "nope@contoso.com"} }, nimbus.KindForbidden, "config.services[1]"},
		{"service of another owner", d.Users.TenantAdmin, func(c *nimbus.TaskTriggerConfig) {}, "", ""},
		{"not licensed", d.Users.TenantAdmin, func(c *nimbus.TaskTriggerConfig) { c.Config.Services = []string{d.Services.AdvancedRouting} }, nimbus.KindInvalid, "config.services[0]"},
		{"invalid workflow", d.Users.TenantAdmin, func(c *nimbus.TaskTriggerConfig) { c.Config.Services = []string{d.Services.InvalidWorkflow} }, nimbus.KindInvalid, "config.services[0]"},
		{"limited owner", d.Users.TeamOwnerLimited, func(c *nimbus.TaskTriggerConfig) {}, nimbus.KindForbidden, ""},
		{"partner admin", d.Users.PartnerAdmin, func(c *nimbus.TaskTriggerConfig) {}, nimbus.KindForbidden, ""},
		{"OU admin", d.Users.OUAdmin, func(c *nimbus.TaskTriggerConfig) {}, nimbus.KindForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c nimbus.TaskTriggerConfig
			c.Config.URL, c.Config.Services, c.Config.TaskEvents = "https://x.logic.azure.com/cb", []string{cc}, []nimbus.TaskEvent{nimbus.EventInQueue}
			tt.edit(&c)
			_, err := p.subs.RegisterTaskTrigger(t.Context(), p.caller(tt.who), c)
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("got %v", err)
				}
				return
			}
			var e *nimbus.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || e.Target != tt.target {
				t.Fatalf("got %#v, want %s at %q", err, tt.kind, tt.target)
			}
			if strings.Contains(e.Message, "forbidden.example/x") {
				t.Error("error echoes the callback URL")
			}
		})
	}
}

func TestRegistrationIsIdempotentAndDeleteToo(t *testing.T) {
	p := newPipe(t)
	cc := p.demo.Services.ContactCenter
	owner := p.demo.Users.ServiceOwner
	a := p.register(t, owner, "https://x.logic.azure.com/cb", []string{cc}, []nimbus.TaskEvent{nimbus.EventInQueue}, nil, nil)
	b := p.register(t, owner, "https://x.logic.azure.com/cb", []string{cc}, []nimbus.TaskEvent{nimbus.EventTerminated}, nil, nil)
	if a.ID != b.ID || !b.Created.Equal(a.Created) {
		t.Fatalf("re-registration: ids %s / %s", a.ID, b.ID)
	}
	got, _ := p.subs.Get(t.Context(), a.TenantID, a.ID)
	if len(got.Events) != 1 || got.Events[0] != "Terminated" {
		t.Errorf("filters not updated: %v", got.Events)
	}
	c := p.register(t, p.demo.Users.TenantAdmin, "https://x.logic.azure.com/cb", []string{cc}, []nimbus.TaskEvent{nimbus.EventInQueue}, nil, nil)
	if c.ID == a.ID {
		t.Error("another owner with the same URL got the same subscription")
	}
	other := nimbus.Caller{TenantID: "99999999-9999-9999-9999-999999999999", UPN: owner}
	if err := p.subs.Delete(t.Context(), other, nimbus.KindTask, a.ID); err != nil {
		t.Errorf("delete from another tenant: %v (must be treated as gone)", err)
	}
	if _, err := p.subs.Get(t.Context(), a.TenantID, a.ID); err != nil {
		t.Error("another tenant's delete removed the subscription")
	}
	if err := p.subs.Delete(t.Context(), p.caller(p.demo.Users.User), nimbus.KindTask, a.ID); !errors.Is(err, nimbus.ErrForbidden) {
		t.Errorf("delete by another user: %v", err)
	}
	for range 2 {
		if err := p.subs.Delete(t.Context(), p.caller(owner), nimbus.KindTask, a.ID); err != nil {
			t.Errorf("delete: %v", err)
		}
	}
	if subs, _ := p.subs.ForService(t.Context(), a.TenantID, "svc-contactcenter"); len(subs) != 1 || subs[0].ID != c.ID {
		t.Errorf("index after delete: %+v", subs)
	}
}

func TestIngestValidation(t *testing.T) {
	p := newPipe(t)
	cc := p.demo.Services.ContactCenter
	good := func() nimbus.IngestEvent {
		return event("i", 1, nimbus.EventInQueue, cc, nimbus.ModalityAudio, nimbus.DirectionInbound)
	}
	tests := []struct {
		name   string
		edit   func(e *nimbus.IngestEvent)
		target string
	}{
		{"unknown event", func(e *nimbus.IngestEvent) { e.Event = "Queued" }, "[1].event"},
		{"pair not raised", func(e *nimbus.IngestEvent) { e.Direction = nimbus.DirectionOutbound }, "[1].event"},
		{"no sequence", func(e *nimbus.IngestEvent) { e.Sequence = nil }, "[1].sequence"},
		{"bad timestamp", func(e *nimbus.IngestEvent) { e.OccurredAt = "yesterday" }, "[1].occurredAt"},
		{"unknown tenant", func(e *nimbus.IngestEvent) { e.TenantID = "99999999-9999-9999-9999-999999999999" }, "[1].tenantId"},
		{"unknown service", func(e *nimbus.IngestEvent) { e.ServiceUPN = "ghost@contoso.com" }, "[1].serviceUpn"},
		{"parameter missing", func(e *nimbus.IngestEvent) { e.Event = nimbus.EventParameterUpdated }, "[1].parameter"},
		{"parameter name too long", func(e *nimbus.IngestEvent) {
			e.Event, e.Parameter = nimbus.EventParameterUpdated, &nimbus.Parameter{Name: strings.Repeat("n", 65)}
		}, "[1].parameter.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := good()
			tt.edit(&bad)
			_, err := p.ingest.Accept(t.Context(), core, []nimbus.IngestEvent{good(), bad})
			var e *nimbus.Error
			if !errors.As(err, &e) || e.Kind != nimbus.KindInvalid || e.Target != tt.target {
				t.Fatalf("got %v, want InvalidArgument at %s", err, tt.target)
			}
			if n := len(p.events.take()); n != 0 {
				t.Errorf("a rejected batch queued %d events", n)
			}
		})
	}
	user := p.caller(p.demo.Users.TenantAdmin)
	if _, err := p.ingest.Accept(t.Context(), user, []nimbus.IngestEvent{good()}); !errors.Is(err, nimbus.ErrForbidden) {
		t.Errorf("user token ingests: %v", err)
	}
	res, err := p.ingest.Accept(t.Context(), core, []nimbus.IngestEvent{good(), event("j", 1, nimbus.EventInQueue, p.demo.Services.InvalidWorkflow, nimbus.ModalityAudio, nimbus.DirectionInbound)})
	if err != nil || res.Accepted != 1 || res.Ignored != 1 {
		t.Errorf("workflow-invalid service: %+v, %v", res, err)
	}
	msgs := p.events.take()
	if len(msgs) != 1 || msgs[0].SessionID != DemoTenantID+"/i" {
		t.Errorf("queued: %+v", msgs)
	}
}

// A service owner who loses ownership stops receiving (enforce) or keeps receiving and is
// listed as orphaned (legacy); access coming back resumes a suspended subscription.
func TestRevokedAccess(t *testing.T) {
	for _, policy := range []nimbus.RevokedAccessPolicy{nimbus.RevokedEnforce, nimbus.RevokedLegacy} {
		t.Run(string(policy), func(t *testing.T) {
			p := newPipe(t)
			ctx := t.Context()
			admin := p.caller(p.demo.Users.TenantAdmin)
			cc := p.demo.Services.ContactCenter
			sub := p.register(t, p.demo.Users.ServiceOwner, "https://x.logic.azure.com/cb", []string{cc}, []nimbus.TaskEvent{nimbus.EventInQueue}, nil, nil)
			d, _ := Demo()
			d.Settings.RevokedAccess = policy
			d.Services[0].Owners = nil // the owner loses the contact-center service
			if _, err := p.dir.Import(ctx, admin, d); err != nil {
				t.Fatal(err)
			}
			got := p.run(t, event("r1", 1, nimbus.EventInQueue, cc, nimbus.ModalityAudio, nimbus.DirectionInbound))
			orphans, err := p.subs.List(ctx, admin, DemoTenantID, "orphaned")
			if err != nil || len(orphans) != 1 || orphans[0].ID != sub.ID {
				t.Fatalf("orphaned: %+v, %v", orphans, err)
			}
			if strings.Contains(orphans[0].Callback, "/cb") {
				t.Errorf("admin view shows the callback path: %s", orphans[0].Callback)
			}
			stored, _ := p.subs.Get(ctx, sub.TenantID, sub.ID)
			switch policy {
			case nimbus.RevokedEnforce:
				if len(got) != 0 || stored.Status != nimbus.StatusSuspended {
					t.Fatalf("enforce: %d deliveries, status %s", len(got), stored.Status)
				}
				d.Services[0].Owners = []string{p.demo.Users.ServiceOwner}
				if _, err := p.dir.Import(ctx, admin, d); err != nil {
					t.Fatal(err)
				}
				if got := p.run(t, event("r2", 1, nimbus.EventInQueue, cc, nimbus.ModalityAudio, nimbus.DirectionInbound)); len(got) != 1 {
					t.Errorf("after access returned: %d deliveries", len(got))
				}
				if s, _ := p.subs.Get(ctx, sub.TenantID, sub.ID); s.Status != nimbus.StatusActive {
					t.Errorf("not resumed: %s", s.Status)
				}
			case nimbus.RevokedLegacy:
				if len(got) != 1 || stored.Status != nimbus.StatusActive {
					t.Errorf("legacy: %d deliveries, status %s", len(got), stored.Status)
				}
			}
		})
	}
}
