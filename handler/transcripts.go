package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/azure/blobs"
	"github.com/nimbusflow/connector/handler/embedded"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// openTranscriptBlobs opens the transcripts container: Azure Blob Storage when Azure storage
// is configured (the same connection string or identity as the tables), else files under
// the data directory, beside the bbolt file whose lock keeps a second process out.
func openTranscriptBlobs(ctx context.Context, cfg config) (nimbus.Blobs, error) {
	if !cfg.storage.azure() {
		bs, err := embedded.OpenBlobs(filepath.Join(cfg.dataDir, "blobs", nimbus.ContainerTranscripts))
		if err != nil {
			return nil, err
		}
		return bs, nil
	}
	bc := blobs.Config{ConnectionString: cfg.storage.connectionString}
	if bc.ConnectionString == "" {
		bc.ServiceURL = cfg.storage.blobServiceURI
		if bc.ServiceURL == "" && cfg.storage.accountName == "" {
			return nil, fmt.Errorf("NIMBUS_STORAGE__blobServiceUri is required with NIMBUS_STORAGE__tableServiceUri (or set NIMBUS_STORAGE__accountName): transcripts are kept in Blob Storage")
		}
		if bc.ServiceURL == "" {
			bc.ServiceURL = fmt.Sprintf("https://%s.blob.core.windows.net", cfg.storage.accountName)
		}
		cred, err := azureCredential(cfg.storage.clientID)
		if err != nil {
			return nil, err
		}
		bc.Credential = cred
	}
	// As for the tables: a bad setting must not hang the host's start-up probe.
	openCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, err := blobs.Open(openCtx, bc, nimbus.ContainerTranscripts)
	if err != nil {
		return nil, fmt.Errorf("open blob storage: %w", err)
	}
	return c, nil
}

// wireTranscripts adds the transcripts use case to the pipeline parts: the fan-out reads its
// notified-content table, and its events go on the events queue like every kind.
func wireTranscripts(log *slog.Logger, dir *app.Directory, store nimbus.Tables, queues nimbus.Queues, bs nimbus.Blobs, p *pipelineParts) {
	meta := store.Table(nimbus.TableTranscripts)
	p.transcripts = app.NewTranscripts(dir, bs, meta, p.claims.Queues(queues).Queue(nimbus.QueueEvents), p.stats, log)
	p.pipeline.TranscriptMeta = meta
}
