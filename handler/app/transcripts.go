package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// Transcripts stores what the virtual assistant recorded for a service session (SPEC 8)
// and raises VoiceTranscriptionReady through the event pipeline.
//
// Storage: the blob {tenant}/{serviceSessionId}.json of the transcripts container holds the
// transcript; the transcripts table (partition tenant, row serviceSessionId) holds the
// content hash last notified, which the fan-out reads so that storing the same content
// again raises the trigger only once. The blob carries its content hash as metadata.
type Transcripts struct {
	dir    *Directory
	blobs  nimbus.Blobs
	meta   nimbus.Table
	events nimbus.Queue
	stats  *Stats
	log    *slog.Logger
	now    func() time.Time
}

// NewTranscripts returns the transcripts use case. blobs is the transcripts container.
func NewTranscripts(dir *Directory, blobs nimbus.Blobs, meta nimbus.Table, events nimbus.Queue, stats *Stats, log *slog.Logger) *Transcripts {
	return &Transcripts{dir: dir, blobs: blobs, meta: meta, events: events, stats: stats, log: log, now: time.Now}
}

// StoreResult answers a stored transcript.
type StoreResult struct {
	ServiceSessionID string `json:"serviceSessionId"`
	ContentHash      string `json:"contentHash"`
}

// Store validates t and stores it as its session's transcript, replacing any earlier one,
// then queues its VoiceTranscriptionReady event. It returns once both are durable. The
// event id is derived from the session and the content hash, so a repeated call (core
// retrying after a lost answer, or the same content stored again) queues the same event,
// which the queue's duplicate detection and the fan-out's notified hash raise once.
func (ts *Transcripts) Store(ctx context.Context, caller nimbus.Caller, t *nimbus.Transcript) (StoreResult, error) {
	if !caller.IsApp || !caller.HasAppRole(nimbus.AppRoleCore) {
		return StoreResult{}, nimbus.Forbidden("Only Nimbus core (an application token with the %s role) may store transcripts.", nimbus.AppRoleCore)
	}
	if err := t.Validate(); err != nil {
		return StoreResult{}, err
	}
	x, svc, reason, err := resolveService(ctx, ts.dir, t.TenantID, t.ServiceUPN)
	switch {
	case err != nil:
		return StoreResult{}, err
	case reason == dropUnknownTenant:
		return StoreResult{}, nimbus.Invalid("tenantId", "tenantId %q is not a tenant known to Nimbus.", t.TenantID)
	case reason == dropUnknownService:
		return StoreResult{}, nimbus.Invalid("serviceUpn", "serviceUpn %q is not a service of tenant %s.", t.ServiceUPN, t.TenantID)
	case !svc.VirtualAssistantEnabled:
		return StoreResult{}, nimbus.Invalid("serviceUpn", "Service %q does not have the virtual assistant enabled, so it has no transcripts.", svc.UPN)
	}
	// One spelling of the tenant for the blob name, the event and the notified-content row.
	t.TenantID = x.TenantID()
	// Hash first (a pass that keeps nothing), then stream the same encoding into the store:
	// the metadata must be known when the upload starts.
	h := sha256.New()
	if err := nimbus.WriteTranscript(h, t); err != nil {
		return StoreResult{}, err
	}
	hash := hex.EncodeToString(h.Sum(nil))
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(nimbus.WriteTranscript(pw, t)) }()
	name := nimbus.TranscriptBlobName(t.TenantID, t.ServiceSessionID)
	info, err := ts.blobs.Put(ctx, name, pr, nimbus.PutOptions{ContentType: "application/json", Metadata: map[string]string{"sha256": hash}})
	_ = pr.CloseWithError(io.ErrClosedPipe) // stops the writer when Put failed early
	if err != nil {
		return StoreResult{}, fmt.Errorf("store transcript: %w", err)
	}
	if reason == dropWorkflow {
		// Stored for GetVirtualAssistantData, but the service raises no events (SPEC 2.4).
		ts.stats.Dropped(t.TenantID, reason, "serviceSessionId", t.ServiceSessionID)
		return StoreResult{ServiceSessionID: t.ServiceSessionID, ContentHash: hash}, nil
	}
	if err := ts.queueEvent(ctx, t, hash, info.Modified); err != nil {
		return StoreResult{}, err
	}
	ts.log.InfoContext(ctx, "transcript stored", "tenant", t.TenantID, "serviceSessionId", t.ServiceSessionID, "bytes", info.Size, "segments", len(t.Segments))
	return StoreResult{ServiceSessionID: t.ServiceSessionID, ContentHash: hash}, nil
}

// TranscriptEventID is the event id of a session's content: one per distinct content.
func TranscriptEventID(serviceSessionID, contentHash string) string {
	return "transcript:" + serviceSessionID + ":" + contentHash[:32]
}

func (ts *Transcripts) queueEvent(ctx context.Context, t *nimbus.Transcript, hash string, stored time.Time) error {
	if stored.IsZero() {
		stored = ts.now().UTC()
	}
	env := nimbus.Envelope{
		Kind: nimbus.EventKindTranscript, Tenant: t.TenantID, Service: t.ServiceUPN,
		ID: TranscriptEventID(t.ServiceSessionID, hash),
		Transcript: &nimbus.TranscriptEvent{
			ServiceSessionID: t.ServiceSessionID, TaskID: t.TaskID, UserSessionID: t.UserSessionID,
			UserUPN: t.UserUPN, Language: t.Language, DurationSeconds: t.DurationSeconds,
			DataTypes: t.DataTypes(), ContentHash: hash, StoredAt: stored,
		},
	}
	body, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("encode transcript event: %w", err)
	}
	// The task's session: a transcript event follows the task's own events.
	msg := nimbus.Message{ID: nimbus.ScopedID(t.TenantID, env.ID), SessionID: SessionOf(t.TenantID, t.TaskID), Body: body}
	if err := ts.events.Send(ctx, msg); err != nil {
		return fmt.Errorf("queue transcript event: %w", err)
	}
	return nil
}

// Data is GetVirtualAssistantData: the session's transcript, when the caller may use its
// service for conversations and the service has the virtual assistant enabled. A missing
// transcript, one of a service the caller may not use, and one of another user session
// (when userSessionID is given) all answer the same KindNotFound.
func (ts *Transcripts) Data(ctx context.Context, caller nimbus.Caller, serviceSessionID string, dataType nimbus.TranscriptDataType, userSessionID string) (*nimbus.Transcript, error) {
	x, acc, err := ts.dir.AccessFor(ctx, caller, nimbus.GroupConversations)
	if err != nil {
		return nil, err
	}
	if err := nimbus.CheckSessionID("serviceSessionId", serviceSessionID); err != nil {
		return nil, err
	}
	if dataType != nimbus.DataTranscript && dataType != nimbus.DataSummary {
		return nil, nimbus.Invalid("dataType", "dataType must be %q or %q, not %q.", nimbus.DataTranscript, nimbus.DataSummary, dataType)
	}
	if userSessionID != "" {
		if err := nimbus.CheckSessionID("userSessionId", userSessionID); err != nil {
			return nil, err
		}
	}
	missing := nimbus.NotFound("No virtual-assistant data was found for service session %q.", serviceSessionID)
	r, _, err := ts.blobs.Get(ctx, nimbus.TranscriptBlobName(x.TenantID(), serviceSessionID))
	if errors.Is(err, nimbus.ErrNotFound) {
		return nil, missing
	}
	if err != nil {
		return nil, fmt.Errorf("read transcript: %w", err)
	}
	defer r.Close()
	t, err := nimbus.DecodeTranscript(r)
	if err != nil {
		return nil, fmt.Errorf("decode stored transcript %s: %w", serviceSessionID, err)
	}
	svc, ok := x.ServiceByUPN(t.ServiceUPN)
	if !ok || !svc.VirtualAssistantEnabled || acc.CheckService(nimbus.GroupConversations, svc) != nil {
		return nil, missing
	}
	if userSessionID != "" && userSessionID != t.UserSessionID {
		return nil, missing
	}
	if dataType == nimbus.DataSummary && t.Summary == nil {
		return nil, nimbus.NotFound("Service session %q has no summary.", serviceSessionID)
	}
	return &t, nil
}

// VirtualAssistantServices is the services dropdown of the virtual-assistant trigger and
// action: the conversation services (GetServices) that have the virtual assistant enabled.
func (d *Directory) VirtualAssistantServices(ctx context.Context, caller nimbus.Caller) ([]string, error) {
	upns, err := d.ConversationServices(ctx, caller)
	if err != nil {
		return nil, err
	}
	x, err := d.Index(ctx, caller.TenantID)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, upn := range upns {
		if svc, ok := x.ServiceByUPN(upn); ok && svc.VirtualAssistantEnabled {
			out = append(out, upn)
		}
	}
	return out, nil
}
