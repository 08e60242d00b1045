package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nimbusflow/connector/handler/entra"
)

// lazyDev is the dev issuer, made ready in the background: generating an RSA key takes from
// 50 ms to a second, and start-up must answer the Functions host's probe at once. Token
// operations wait for it; nothing else does.
//
// The key is kept in the embedded data directory, so dev tokens survive a restart. With
// Azure storage (dev auth only when asked for explicitly) it lives in memory only.
type lazyDev struct {
	ready chan struct{}
	dev   *entra.DevIssuer
	err   error
}

func newLazyDev(cfg config) *lazyDev {
	l := &lazyDev{ready: make(chan struct{})}
	go func() {
		defer close(l.ready)
		l.dev, l.err = loadDevIssuer(cfg)
	}()
	return l
}

func (l *lazyDev) wait(ctx context.Context) (*entra.DevIssuer, error) {
	select {
	case <-l.ready:
		return l.dev, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *lazyDev) get() (*entra.DevIssuer, error) { return l.wait(context.Background()) }

// Key implements entra.KeySet.
func (l *lazyDev) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	dev, err := l.wait(ctx)
	if err != nil {
		return nil, err
	}
	return dev.KeySet().Key(ctx, kid)
}

// MintUser, MintApp, JWKS and Metadata implement httpapi.DevTokens.
func (l *lazyDev) MintUser(tenantID, upn, objectID string, ttl time.Duration) (string, error) {
	dev, err := l.get()
	if err != nil {
		return "", err
	}
	return dev.MintUser(tenantID, upn, objectID, ttl)
}

func (l *lazyDev) MintApp(tenantID, appID string, roles []string, ttl time.Duration) (string, error) {
	dev, err := l.get()
	if err != nil {
		return "", err
	}
	return dev.MintApp(tenantID, appID, roles, ttl)
}

func (l *lazyDev) JWKS() []byte {
	if dev, err := l.get(); err == nil {
		return dev.JWKS()
	}
	return []byte(`{"keys":[]}`)
}

func (l *lazyDev) Metadata(baseURL string) []byte {
	if dev, err := l.get(); err == nil {
		return dev.Metadata(baseURL)
	}
	return []byte(`{}`)
}

func loadDevIssuer(cfg config) (*entra.DevIssuer, error) {
	aud := cfg.audiences[0]
	if cfg.storage.azure() {
		return entra.NewDevIssuer(aud)
	}
	path := filepath.Join(cfg.dataDir, "dev-signing-key.pem")
	if data, err := os.ReadFile(path); err == nil {
		if block, _ := pem.Decode(data); block != nil {
			if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
				return entra.NewDevIssuerWithKey(aud, key)
			}
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate dev signing key: %w", err)
	}
	block := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(path, block, 0o600); err != nil {
		return nil, fmt.Errorf("store dev signing key: %w", err)
	}
	return entra.NewDevIssuerWithKey(aud, key)
}
