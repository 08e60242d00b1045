package entra

import (
	"context"
	"crypto/rsa"
	"time"
)

// AsyncDevIssuer is a DevIssuer made ready in the background: generating an RSA key takes
// from 50 ms to a second, and start-up must answer the Functions host's probe at once. Token
// operations wait for it (until their ctx is done); nothing else does. It implements KeySet
// and is safe for concurrent use.
type AsyncDevIssuer struct {
	ready chan struct{}
	dev   *DevIssuer
	err   error
}

// NewAsyncDevIssuer starts making a DevIssuer for audience with the key that load returns (it
// may read a stored key or generate one).
func NewAsyncDevIssuer(audience string, load func() (*rsa.PrivateKey, error)) *AsyncDevIssuer {
	a := &AsyncDevIssuer{ready: make(chan struct{})}
	go func() {
		defer close(a.ready)
		key, err := load()
		if err != nil {
			a.err = err
			return
		}
		a.dev, a.err = NewDevIssuerWithKey(audience, key)
	}()
	return a
}

func (a *AsyncDevIssuer) wait(ctx context.Context) (*DevIssuer, error) {
	select {
	case <-a.ready:
		return a.dev, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Key implements KeySet.
func (a *AsyncDevIssuer) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	dev, err := a.wait(ctx)
	if err != nil {
		return nil, err
	}
	return dev.KeySet().Key(ctx, kid)
}

// MintUser is DevIssuer.MintUser once the issuer is ready.
func (a *AsyncDevIssuer) MintUser(ctx context.Context, tenantID, upn, objectID string, ttl time.Duration) (string, error) {
	dev, err := a.wait(ctx)
	if err != nil {
		return "", err
	}
	return dev.MintUser(tenantID, upn, objectID, ttl)
}

// MintApp is DevIssuer.MintApp once the issuer is ready.
func (a *AsyncDevIssuer) MintApp(ctx context.Context, tenantID, appID string, roles []string, ttl time.Duration) (string, error) {
	dev, err := a.wait(ctx)
	if err != nil {
		return "", err
	}
	return dev.MintApp(tenantID, appID, roles, ttl)
}

// JWKS is DevIssuer.JWKS once the issuer is ready.
func (a *AsyncDevIssuer) JWKS(ctx context.Context) ([]byte, error) {
	dev, err := a.wait(ctx)
	if err != nil {
		return nil, err
	}
	return dev.JWKS(), nil
}

// Metadata is DevIssuer.Metadata once the issuer is ready.
func (a *AsyncDevIssuer) Metadata(ctx context.Context, baseURL string) ([]byte, error) {
	dev, err := a.wait(ctx)
	if err != nil {
		return nil, err
	}
	return dev.Metadata(baseURL), nil
}
