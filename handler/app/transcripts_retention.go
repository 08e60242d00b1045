package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// PurgeExpired deletes every transcript older than its tenant's retention
// (transcriptRetentionDays, default 30) at now, with its notified-content row, and returns
// how many it deleted. A tenant no longer in the directory keeps the default. It is the
// transcript part of housekeeping: standalone it runs on its own timer, and in Azure it
// enforces tenant settings shorter than the storage account's lifecycle rule (which deletes
// whatever is older than the deployment-wide maximum without the app).
func (ts *Transcripts) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	retention := map[string]time.Duration{}
	deleted, cursor := 0, ""
	for {
		page, err := ts.blobs.List(ctx, "", cursor, nimbus.MaxPageSize)
		if err != nil {
			return deleted, fmt.Errorf("list transcripts: %w", err)
		}
		for _, b := range page.Blobs {
			tenant, file, ok := strings.Cut(b.Name, "/")
			session, isJSON := strings.CutSuffix(file, ".json")
			if !ok || !isJSON {
				continue
			}
			keep, known := retention[tenant]
			if !known {
				keep = (&nimbus.TenantSettings{}).TranscriptRetention()
				x, err := ts.dir.Index(ctx, tenant)
				switch {
				case err == nil:
					s := x.Settings()
					keep = s.TranscriptRetention()
				case nimbus.KindOf(err) != nimbus.KindNotFound:
					return deleted, fmt.Errorf("retention of tenant %s: %w", tenant, err)
				}
				retention[tenant] = keep
			}
			if now.Sub(b.Modified) < keep {
				continue
			}
			if err := ts.erase(ctx, tenant, session); err != nil {
				return deleted, err
			}
			deleted++
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if deleted > 0 {
		ts.log.InfoContext(ctx, "expired transcripts deleted", "count", deleted)
	}
	return deleted, nil
}

// RetentionJob is PurgeExpired as a timer job.
func (ts *Transcripts) RetentionJob(ctx context.Context) error {
	_, err := ts.PurgeExpired(ctx, ts.now())
	return err
}

// erase deletes a session's transcript and its notified-content row; either may be gone.
func (ts *Transcripts) erase(ctx context.Context, tenant, session string) error {
	if err := ts.blobs.Delete(ctx, nimbus.TranscriptBlobName(tenant, session)); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		return fmt.Errorf("delete transcript %s/%s: %w", tenant, session, err)
	}
	if err := ts.meta.Delete(ctx, tenant, session, ""); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
		return fmt.Errorf("delete transcript metadata %s/%s: %w", tenant, session, err)
	}
	return nil
}
