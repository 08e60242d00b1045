package app

import (
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/embedded"
	"github.com/nimbusflow/connector/handler/nimbus"
)

type transcriptPipe struct {
	*pipe
	ts *Transcripts
}

func newTranscriptPipe(t *testing.T) *transcriptPipe {
	t.Helper()
	p := newPipe(t)
	bs, err := embedded.OpenBlobs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	meta := p.tables.Table(nimbus.TableTranscripts)
	p.pipeline.TranscriptMeta = meta
	return &transcriptPipe{pipe: p, ts: NewTranscripts(p.dir, bs, meta, p.events, p.stats, slog.New(slog.DiscardHandler))}
}

func sampleTranscript(session, text string) *nimbus.Transcript {
	return &nimbus.Transcript{
		ServiceSessionID: session, TenantID: DemoTenantID, TaskID: "task-" + session,
		ServiceUPN: "contactcenter@contoso.com", UserSessionID: "user-" + session, Language: "en-US", DurationSeconds: 61.5,
		Segments: []nimbus.TranscriptSegment{{Speaker: nimbus.SpeakerCustomer, OffsetMs: 0, DurationMs: 1200, Text: text}},
		Summary:  &nimbus.TranscriptSummary{Title: "Billing", Issue: "Invoice", Resolution: "Refund", Recap: "r", Narrative: "n"},
	}
}

// store stores t and runs its event through the fan-out, returning the deliveries queued.
func (p *transcriptPipe) store(t *testing.T, tr *nimbus.Transcript) []Delivery {
	t.Helper()
	if _, err := p.ts.Store(t.Context(), core, tr); err != nil {
		t.Fatalf("store: %v", err)
	}
	for _, m := range p.events.take() {
		if err := p.pipeline.ProcessEvent(t.Context(), m); err != nil {
			t.Fatalf("process: %v", err)
		}
	}
	var out []Delivery
	for _, m := range p.deliveries.take() {
		var d Delivery
		if err := json.Unmarshal(m.Body, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func (p *transcriptPipe) registerVA(t *testing.T, upn string, services ...string) (nimbus.Subscription, error) {
	var cfg nimbus.VirtualAssistantTriggerConfig
	cfg.Config.URL, cfg.Config.Services = "https://prod-1.westeurope.logic.azure.com/va", services
	return p.subs.RegisterVirtualAssistantTrigger(t.Context(), p.caller(upn), cfg)
}

func TestTranscriptTriggerOncePerDistinctContent(t *testing.T) {
	p := newTranscriptPipe(t)
	if _, err := p.registerVA(t, p.demo.Users.ServiceOwner, p.demo.Services.ContactCenter); err != nil {
		t.Fatalf("register: %v", err)
	}
	ds := p.store(t, sampleTranscript("s1", "hello"))
	if len(ds) != 1 {
		t.Fatalf("first store: %d deliveries, want 1", len(ds))
	}
	var got nimbus.VoiceTranscriptionReady
	if err := json.Unmarshal(ds[0].Payload, &got); err != nil {
		t.Fatal(err)
	}
	if got.Event != nimbus.EventVoiceTranscriptionReady || got.ServiceSessionID != "s1" || got.TaskID != "task-s1" ||
		got.ServiceUPN != p.demo.Services.ContactCenter || len(got.DataTypes) != 2 || got.OccurredAt.IsZero() || got.EventID == "" {
		t.Errorf("payload: got %+v", got)
	}
	if ds := p.store(t, sampleTranscript("s1", "hello")); len(ds) != 0 {
		t.Errorf("same content again: %d deliveries, want 0", len(ds))
	}
	if ds := p.store(t, sampleTranscript("s1", "hello, corrected")); len(ds) != 1 {
		t.Errorf("new content: %d deliveries, want 1", len(ds))
	}
	if ds := p.store(t, sampleTranscript("s2", "hello")); len(ds) != 1 {
		t.Errorf("another session with the same text: %d deliveries, want 1", len(ds))
	}
}

func TestVirtualAssistantTriggerNeedsEnabledService(t *testing.T) {
	p := newTranscriptPipe(t)
	_, err := p.registerVA(t, p.demo.Users.ServiceOwner, p.demo.Services.ContactCenter, p.demo.Services.EnterpriseRouting)
	var e *nimbus.Error
	if !errors.As(err, &e) || e.Kind != nimbus.KindInvalid || e.Target != "config.services[1]" {
		t.Fatalf("register with a service without the virtual assistant: got %v, want 400 naming config.services[1]", err)
	}
	_, err = p.registerVA(t, p.demo.Users.OUAdmin, p.demo.Services.ContactCenter)
	if nimbus.KindOf(err) != nimbus.KindForbidden {
		t.Errorf("register by an OU admin: got %v, want Forbidden", err)
	}
}

func TestTranscriptRetention(t *testing.T) {
	p := newTranscriptPipe(t)
	ctx := t.Context()
	p.store(t, sampleTranscript("keep", "a"))
	owner := p.caller(p.demo.Users.ServiceOwner)
	now := time.Now()
	if n, err := p.ts.PurgeExpired(ctx, now.Add(29*24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("purge before the default 30 days: %d, %v; want 0", n, err)
	}
	if _, err := p.ts.Data(ctx, owner, "keep", nimbus.DataTranscript, ""); err != nil {
		t.Fatalf("read before expiry: %v", err)
	}
	if n, err := p.ts.PurgeExpired(ctx, now.Add(31*24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("purge after 31 days: %d, %v; want 1", n, err)
	}
	if _, err := p.ts.Data(ctx, owner, "keep", nimbus.DataTranscript, ""); nimbus.KindOf(err) != nimbus.KindNotFound {
		t.Errorf("read after expiry: got %v, want NotFound", err)
	}
	if _, err := p.tables.Table(nimbus.TableTranscripts).Get(ctx, DemoTenantID, "keep"); !errors.Is(err, nimbus.ErrNotFound) {
		t.Errorf("notified-content row after expiry: got %v, want it deleted", err)
	}

	// A tenant with a short retention: one day.
	d, _ := Demo()
	d.Settings.TranscriptRetentionDays = 1
	if _, err := p.dir.Seed(ctx, d, true); err != nil {
		t.Fatal(err)
	}
	p.store(t, sampleTranscript("short", "b"))
	if n, err := p.ts.PurgeExpired(ctx, now.Add(20*time.Hour)); err != nil || n != 0 {
		t.Fatalf("purge within the day: %d, %v; want 0", n, err)
	}
	if n, err := p.ts.PurgeExpired(ctx, now.Add(25*time.Hour)); err != nil || n != 1 {
		t.Fatalf("purge after a day: %d, %v; want 1", n, err)
	}
}

func TestTranscriptStoreRefusals(t *testing.T) {
	p := newTranscriptPipe(t)
	cases := []struct {
		name   string
		edit   func(tr *nimbus.Transcript)
		caller nimbus.Caller
		kind   nimbus.Kind
		target string
	}{
		{"NotCore", func(*nimbus.Transcript) {}, p.caller(p.demo.Users.TenantAdmin), nimbus.KindForbidden, ""},
		{"UnknownTenant", func(tr *nimbus.Transcript) { tr.TenantID = "00000000-0000-0000-0000-000000000001" }, core, nimbus.KindInvalid, "tenantId"},
		{"UnknownService", func(tr *nimbus.Transcript) { tr.ServiceUPN = "nobody@contoso.com" }, core, nimbus.KindInvalid, "serviceUpn"},
		{"AssistantDisabled", func(tr *nimbus.Transcript) { tr.ServiceUPN = p.demo.Services.EnterpriseRouting }, core, nimbus.KindInvalid, "serviceUpn"},
		{"BadSpeaker", func(tr *nimbus.Transcript) { tr.Segments[0].Speaker = "Bot" }, core, nimbus.KindInvalid, "segments[0].speaker"},
		{"BadSession", func(tr *nimbus.Transcript) { tr.ServiceSessionID = "a/b" }, core, nimbus.KindInvalid, "serviceSessionId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := sampleTranscript("refused", "x")
			c.edit(tr)
			_, err := p.ts.Store(t.Context(), c.caller, tr)
			var e *nimbus.Error
			if !errors.As(err, &e) || e.Kind != c.kind || e.Target != c.target {
				t.Errorf("got %v, want %s naming %q", err, c.kind, c.target)
			}
		})
	}
	if msgs := p.events.take(); len(msgs) != 0 {
		t.Errorf("refused transcripts queued %d events", len(msgs))
	}
}
