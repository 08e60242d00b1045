package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// notifiedRow is a row of the transcripts table: the content last notified for a session.
type notifiedRow struct {
	ContentHash string    `json:"contentHash"`
	Notified    time.Time `json:"notified"`
}

// applyTranscriptEvent is the apply step of EventKindTranscript: the transcript metadata
// says which content of the session was last notified; the same content again is not
// notified twice (SPEC 8: once per distinct content). The new hash is written once the
// deliveries are queued, so a crash in between repeats the fan-out rather than losing it.
func applyTranscriptEvent(ctx context.Context, p *Pipeline, env *nimbus.Envelope, svc *nimbus.Service) (*applied, error) {
	e := env.Transcript
	if e == nil || e.ServiceSessionID == "" || e.ContentHash == "" {
		p.stats.Dropped(env.Tenant, DropMalformed, "eventId", env.ID)
		return nil, nil
	}
	if p.TranscriptMeta == nil {
		return nil, errors.New("transcript event: the pipeline has no transcript metadata table")
	}
	if !svc.VirtualAssistantEnabled {
		p.stats.Dropped(env.Tenant, DropAssistantDisabled, "eventId", env.ID, "service", svc.ID)
		return nil, nil
	}
	row, err := p.TranscriptMeta.Get(ctx, env.Tenant, e.ServiceSessionID)
	switch {
	case err == nil:
		var last notifiedRow
		if json.Unmarshal(row.Data, &last) == nil && last.ContentHash == e.ContentHash {
			p.stats.Stale(env.Tenant, "eventId", env.ID, "serviceSessionId", e.ServiceSessionID)
			return nil, nil
		}
	case !errors.Is(err, nimbus.ErrNotFound):
		return nil, fmt.Errorf("read transcript metadata: %w", err)
	}
	return &applied{
		deliver: true,
		matches: func(sub *nimbus.Subscription) bool {
			return slices.Contains(sub.Events, nimbus.EventVoiceTranscriptionReady)
		},
		payload: func(bool) any { return nimbus.NewVoiceTranscriptionReady(env, svc) },
		commit: func(ctx context.Context) error {
			data, err := json.Marshal(notifiedRow{ContentHash: e.ContentHash, Notified: p.now().UTC()})
			if err != nil {
				return fmt.Errorf("encode transcript metadata: %w", err)
			}
			if _, err := p.TranscriptMeta.Upsert(ctx, nimbus.Entity{PartitionKey: env.Tenant, RowKey: e.ServiceSessionID, Data: data}); err != nil {
				return fmt.Errorf("store transcript metadata: %w", err)
			}
			return nil
		},
	}, nil
}
