package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/nimbusflow/connector/handler/app"
	"github.com/nimbusflow/connector/handler/azure/servicebus"
	"github.com/nimbusflow/connector/handler/azure/tables"
	"github.com/nimbusflow/connector/handler/embedded"
	"github.com/nimbusflow/connector/handler/entra"
	"github.com/nimbusflow/connector/handler/httpapi"
	"github.com/nimbusflow/connector/handler/nimbus"
)

// assembly is the wired application.
type assembly struct {
	api    *httpapi.Server
	demo   *app.DemoInfo
	closes []func() error
	// queues is the embedded queue, consumed in-process; nil when Service Bus carries the
	// queues and the Functions host consumes them.
	queues *embedded.Queues
	parts  pipelineParts
}

func (a *assembly) close() {
	for i := len(a.closes) - 1; i >= 0; i-- {
		_ = a.closes[i]()
	}
}

func newLogger(cfg config, w interface{ Write([]byte) (int, error) }) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// assemble chooses the adapters for cfg and wires the use cases and the REST surface.
func assemble(ctx context.Context, cfg config, log *slog.Logger) (*assembly, error) {
	a := &assembly{}
	store, queues, err := openStorage(ctx, cfg, a, log)
	if err != nil {
		a.close()
		return nil, err
	}
	dir := app.NewDirectory(store.Table(nimbus.TableDirectory), 0)
	books := app.NewAddressBooks(dir, store.Table(nimbus.TableContacts), cfg.maxContacts)
	pipe := wirePipeline(cfg, log, dir, store, queues)
	pipe.housekeeping = app.NewHousekeeping(dir, store.Table(nimbus.TableTasks), log)
	pipe.housekeepingEvery = cfg.housekeepingEvery
	transcriptBlobs, err := openTranscriptBlobs(ctx, cfg)
	if err != nil {
		a.close()
		return nil, err
	}
	wireTranscripts(log, dir, store, queues, transcriptBlobs, &pipe)
	pipe.statsView = app.NewStatsView(pipe.stats, dir, pipe.subs, queueGauges(a.queues))
	a.parts = pipe
	a.closes = append(a.closes, func() error {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		pipe.attempts.Close(flushCtx)
		return nil
	})

	keys, dev, err := authKeys(ctx, cfg, a)
	if err != nil {
		a.close()
		return nil, err
	}
	trust := nimbus.NewAppTrust(cfg.appTenants, cfg.appIDs)
	if len(cfg.appTenants) == 0 {
		log.Warn("NIMBUS_APP_TENANTS is empty: no application token can act as Nimbus core or administer a tenant other than its own")
	}
	validator := entra.NewValidator(entra.Config{
		Audiences: cfg.audiences,
		TenantKnown: func(ctx context.Context, tenantID string) (bool, error) {
			if trust.OperatorTenant(tenantID) {
				return true, nil
			}
			return dir.TenantKnown(ctx, tenantID)
		},
	}, keys)

	if err := seed(ctx, cfg, dir, a, log); err != nil {
		a.close()
		return nil, err
	}

	api := httpapi.Config{
		Logger: log, Version: version, Mode: cfg.mode, PublicBaseURL: cfg.publicBaseURL,
		TrustForwardedHeaders: cfg.trustForwarded, ListenAddr: cfg.addr,
		Authenticate: func(ctx context.Context, authorization string) (nimbus.Caller, error) {
			token, err := entra.BearerToken(authorization)
			if err != nil {
				return nimbus.Caller{}, err
			}
			c, err := validator.Validate(ctx, token)
			if err != nil {
				return nimbus.Caller{}, err
			}
			return trust.Resolve(nimbus.Caller{TenantID: c.TenantID, UPN: c.UPN, ObjectID: c.ObjectID, AppID: c.AppID, Roles: c.Roles, IsApp: c.IsApp}), nil
		},
		Directory:     dir,
		AddressBooks:  books,
		Subscriptions: pipe.subs,
		Ingest:        pipe.ingest,
		Failures:      pipe.failures,
		QueueFailures: pipe.queueFailures,
		Claims:        pipe.claims,
		Stats:         pipe.statsView,
		Attempts:      pipe.attempts,
		Tasks:         pipe.tasks,
		ExternalTasks: pipe.externalTasks,
		Scheduler:     pipe.scheduler.app,
		Transcripts:   pipe.transcripts,
		Console:       cfg.console,
	}
	if dev != nil {
		api.Dev = dev
		if a.demo != nil {
			api.Demo = a.demo
		}
	}
	a.api = httpapi.New(api)
	return a, nil
}

// openStorage opens the tables and the queues cfg asks for. The embedded bbolt file is
// opened when it holds either: the tables (no Azure storage) or the queues (no Service Bus).
func openStorage(ctx context.Context, cfg config, a *assembly, log *slog.Logger) (nimbus.Tables, nimbus.Queues, error) {
	var db *embedded.DB
	if !cfg.storage.azure() || !cfg.serviceBus.configured() {
		if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("create data directory: %w", err)
		}
		var err error
		if db, err = embedded.Open(filepath.Join(cfg.dataDir, "nimbus.db")); err != nil {
			return nil, nil, err
		}
		a.closes = append(a.closes, db.Close)
	}
	var queues nimbus.Queues
	if cfg.serviceBus.configured() {
		sc := servicebus.Config{ConnectionString: cfg.serviceBus.connectionString, Namespace: cfg.serviceBus.namespace}
		if sc.ConnectionString == "" {
			cred, err := azureCredential(cfg.serviceBus.clientID)
			if err != nil {
				return nil, nil, err
			}
			sc.Credential = cred
		}
		pub, err := servicebus.Open(sc)
		if err != nil {
			return nil, nil, fmt.Errorf("open service bus: %w", err)
		}
		a.closes = append(a.closes, func() error { return pub.Close(context.WithoutCancel(ctx)) })
		queues = pub
	} else {
		opts := embedded.QueueOptions{Logger: log}
		if !cfg.storage.azure() {
			// Tables and queues share the file: the fan-out commits in one transaction.
			opts.Atomic = atomicCompletion
		}
		a.queues = db.Queues(opts)
		queues = a.queues
	}
	if !cfg.storage.azure() {
		return db.Tables(), queues, nil
	}
	tc := tables.Config{ConnectionString: cfg.storage.connectionString}
	if tc.ConnectionString == "" {
		tc.ServiceURL = cfg.storage.tableServiceURI
		if tc.ServiceURL == "" {
			tc.ServiceURL = fmt.Sprintf("https://%s.table.core.windows.net", cfg.storage.accountName)
		}
		cred, err := azureCredential(cfg.storage.clientID)
		if err != nil {
			return nil, nil, err
		}
		tc.Credential = cred
	}
	// Creating tables needs storage at start; a short bound keeps a bad setting from hanging
	// the Functions host's start-up probe.
	openCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	svc, err := tables.Open(openCtx, tc, nimbus.AllTables...)
	if err != nil {
		return nil, nil, fmt.Errorf("open table storage: %w", err)
	}
	return svc, queues, nil
}

// azureCredential is the user-assigned managed identity when clientID is set (as in Azure,
// where the Bicep sets it), and otherwise the default chain: a system-assigned identity in
// Azure, the developer's own sign-in locally.
func azureCredential(clientID string) (azcore.TokenCredential, error) {
	if clientID != "" {
		cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(clientID)})
		if err != nil {
			return nil, fmt.Errorf("managed identity credential: %w", err)
		}
		return cred, nil
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("azure credential: %w", err)
	}
	return cred, nil
}

func authKeys(ctx context.Context, cfg config, a *assembly) (entra.KeySet, *entra.AsyncDevIssuer, error) {
	if cfg.devAuth {
		if err := entra.DevAuthAllowed(os.Getenv); err != nil {
			return nil, nil, err
		}
		dev := newDevIssuer(cfg)
		return dev, dev, nil
	}
	remote, err := entra.NewRemoteKeySet(ctx, cfg.metadataURL, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		return nil, nil, fmt.Errorf("token keys: %w", err)
	}
	a.closes = append(a.closes, remote.Close)
	return remote, nil, nil
}

// seed imports the --directory file (it is the source of truth, so it replaces what is
// stored) and, in dev mode, the demo tenant (only when absent, so restarts keep changes).
func seed(ctx context.Context, cfg config, dir *app.Directory, a *assembly, log *slog.Logger) error {
	if cfg.directoryFile != "" {
		dirs, err := readDirectoryFile(cfg.directoryFile)
		if err != nil {
			return err
		}
		for _, d := range dirs {
			if _, err := dir.Seed(ctx, d, true); err != nil {
				return fmt.Errorf("import %s: tenant %s: %w", cfg.directoryFile, d.TenantID, err)
			}
			log.Info("directory imported", "tenant", d.TenantID, "file", cfg.directoryFile)
		}
	}
	if cfg.seedDemo {
		d, info := app.Demo()
		stored, err := dir.Seed(ctx, d, false)
		if err != nil {
			return fmt.Errorf("seed demo tenant: %w", err)
		}
		if stored {
			log.Info("demo tenant seeded", "tenant", info.TenantID)
		}
		a.demo = &info
	}
	return nil
}

// readDirectoryFile reads one directory object or an array of them.
func readDirectoryFile(path string) ([]nimbus.Directory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read directory file: %w", err)
	}
	trimmed := strings.TrimSpace(string(data))
	var dirs []nimbus.Directory
	if strings.HasPrefix(trimmed, "[") {
		err = json.Unmarshal(data, &dirs)
	} else {
		var d nimbus.Directory
		err = json.Unmarshal(data, &d)
		dirs = []nimbus.Directory{d}
	}
	if err != nil {
		return nil, fmt.Errorf("directory file %s is not valid JSON: %w", path, err)
	}
	for i := range dirs {
		if err := dirs[i].Validate(); err != nil {
			var e *nimbus.Error
			if errors.As(err, &e) && e.Target != "" {
				return nil, fmt.Errorf("directory file %s, directory %d: %s: %s", path, i, e.Target, e.Message)
			}
			return nil, fmt.Errorf("directory file %s, directory %d: %w", path, i, err)
		}
	}
	return dirs, nil
}
