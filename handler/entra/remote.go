package entra

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"golang.org/x/time/rate"

	"github.com/nimbusflow/connector/handler/nimbus"
)

const (
	// fetchTimeout bounds one request for the metadata or the JWKS, so a slow identity
	// provider holds a caller for seconds, not minutes.
	fetchTimeout = 10 * time.Second
	// keysRefreshInterval is how often the JWKS is fetched again in the background. Entra
	// publishes new keys well before signing with them, so this alone normally picks them up,
	// and it drops revoked keys.
	keysRefreshInterval = time.Hour
	// unknownKIDRefreshEvery limits the refreshes that a token with an unknown kid triggers
	// (Microsoft's guidance: at most once every five minutes), so forged kids cannot make us
	// hammer the identity provider. Tokens with an unknown kid in between are rejected at once.
	unknownKIDRefreshEvery = 5 * time.Minute
	// loadRetryDelay is how long a failed first load is remembered: requests in that window
	// fail fast instead of each waiting on an unreachable metadata endpoint.
	loadRetryDelay = 10 * time.Second
	// maxMetadataBytes bounds the OpenID metadata document (Entra's is about 2 KB).
	maxMetadataBytes = 1 << 20
)

// RemoteKeySet is a KeySet backed by an OpenID provider: it reads jwks_uri from the metadata
// document and keeps the JWKS cached, refreshed hourly and on an unknown kid. Nothing is
// fetched until the first Key call, so starting never blocks on the network. It is safe for
// concurrent use; Close stops its background refresh.
type RemoteKeySet struct {
	metadataURL string
	client      *http.Client
	now         func() time.Time

	life context.Context // ends the background refresh
	stop context.CancelFunc

	// loading admits one first load at a time; it is a channel rather than a mutex so that
	// waiting callers can give up when their context ends.
	loading chan struct{}

	mu          sync.Mutex
	store       jwkset.Storage     // nil until loaded
	stopRefresh context.CancelFunc // ends the refresh goroutine of store
	retryAt     time.Time          // after a failed load: fail fast until then
	loadErr     error

	refreshFailures atomic.Uint64 // refreshes after the first load that failed
	lastRefreshErr  atomic.Value  // error wrapper of the latest failure
}

type refreshError struct{ err error }

// NewRemoteKeySet returns a key set for the OpenID metadata document at metadataURL (for
// Entra, https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration).
// The URL must be https, or http to a loopback address for local runs. client nil means a
// plain client with a timeout. Cancelling ctx stops the background refresh like Close.
func NewRemoteKeySet(ctx context.Context, metadataURL string, client *http.Client) (*RemoteKeySet, error) {
	if err := checkKeyURL(metadataURL); err != nil {
		return nil, &nimbus.Error{Kind: nimbus.KindInvalid, Target: "metadataURL", Message: "the OpenID metadata URL is not valid", Err: err}
	}
	if client == nil {
		client = &http.Client{Timeout: fetchTimeout}
	}
	life, stop := context.WithCancel(ctx)
	return &RemoteKeySet{
		metadataURL: metadataURL,
		client:      client,
		now:         time.Now,
		life:        life,
		stop:        stop,
		loading:     make(chan struct{}, 1),
	}, nil
}

// Close stops the background refresh. Key fails with KindUnavailable afterwards.
func (s *RemoteKeySet) Close() error {
	s.mu.Lock()
	if s.stopRefresh != nil {
		s.stopRefresh()
	}
	s.mu.Unlock()
	s.stop()
	return nil
}

// Key implements KeySet. A kid not in the cache triggers one (rate-limited) JWKS refresh,
// which is how a key rotation is picked up between the hourly refreshes.
func (s *RemoteKeySet) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	store, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	failures := s.refreshFailures.Load()
	jwk, err := store.KeyRead(ctx, kid)
	if err == nil {
		if key, ok := rsaSigningKey(jwk); ok {
			return key, nil
		}
		return nil, unauthenticated("The token's signing key is not recognised.", fmt.Errorf("key %q cannot verify RS256 signatures", kid))
	}
	if s.refreshFailures.Load() != failures {
		// The refresh this kid triggered failed: the key may well exist, we cannot tell.
		return nil, nimbus.Unavailable("refresh token signing keys", s.lastRefreshError())
	}
	return nil, unauthenticated("The token's signing key is not recognised.", err)
}

// load returns the key storage, fetching the metadata and the first JWKS on first use.
func (s *RemoteKeySet) load(ctx context.Context) (jwkset.Storage, error) {
	if err := s.life.Err(); err != nil {
		return nil, nimbus.Unavailable("load token signing keys", errors.New("key set is closed"))
	}
	s.mu.Lock()
	store := s.store
	s.mu.Unlock()
	if store != nil {
		return store, nil
	}

	select {
	case s.loading <- struct{}{}:
		defer func() { <-s.loading }()
	case <-ctx.Done():
		return nil, nimbus.Unavailable("load token signing keys", ctx.Err())
	}
	s.mu.Lock()
	store, retryAt, loadErr := s.store, s.retryAt, s.loadErr
	s.mu.Unlock()
	switch {
	case store != nil: // loaded while we waited
		return store, nil
	case s.now().Before(retryAt):
		return nil, loadErr
	}

	store, stopRefresh, err := s.fetch(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.retryAt, s.loadErr = s.now().Add(loadRetryDelay), err
		return nil, err
	}
	s.store, s.stopRefresh = store, stopRefresh
	return store, nil
}

// fetch reads jwks_uri from the metadata and builds the cached, self-refreshing storage. The
// returned func stops its refresh goroutine.
func (s *RemoteKeySet) fetch(ctx context.Context) (jwkset.Storage, context.CancelFunc, error) {
	jwksURI, err := s.jwksURI(ctx)
	if err != nil {
		return nil, nil, nimbus.Unavailable("fetch openid metadata", err)
	}
	// The refresh goroutine lives as long as the key set, not as long as this request; a
	// failed first fetch ends it again at once.
	refreshCtx, cancel := context.WithCancel(s.life)
	remote, err := jwkset.NewStorageFromHTTP(jwksURI, jwkset.HTTPClientStorageOptions{
		Client:              s.client,
		Ctx:                 refreshCtx,
		HTTPTimeout:         fetchTimeout,
		RefreshInterval:     keysRefreshInterval,
		RefreshErrorHandler: s.recordRefreshError,
	})
	if err != nil {
		cancel()
		return nil, nil, nimbus.Unavailable("fetch token signing keys", err)
	}
	store, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{jwksURI: remote},
		RefreshUnknownKID: rate.NewLimiter(rate.Every(unknownKIDRefreshEvery), 1),
		// Also bounds the refresh itself. A caller whose unknown kid finds the limiter empty
		// is refused at once rather than queued for minutes.
		RateLimitWaitMax: fetchTimeout,
	})
	if err != nil {
		cancel()
		return nil, nil, nimbus.Unavailable("fetch token signing keys", err)
	}
	return store, cancel, nil
}

// jwksURI fetches the metadata document and returns its jwks_uri.
func (s *RemoteKeySet) jwksURI(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.metadataURL, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("metadata answered %s", resp.Status)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxMetadataBytes)).Decode(&doc); err != nil {
		return "", fmt.Errorf("decode metadata: %w", err)
	}
	if err := checkKeyURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("metadata jwks_uri: %w", err)
	}
	return doc.JWKSURI, nil
}

func (s *RemoteKeySet) recordRefreshError(_ context.Context, err error) {
	s.lastRefreshErr.Store(refreshError{err})
	s.refreshFailures.Add(1)
}

func (s *RemoteKeySet) lastRefreshError() error {
	if e, ok := s.lastRefreshErr.Load().(refreshError); ok {
		return e.err
	}
	return errors.New("refresh failed")
}

// checkKeyURL accepts https URLs, and http ones only to loopback (the dev issuer, tests):
// keys fetched over plain http from elsewhere could be swapped by anyone on the path.
func checkKeyURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch {
	case u.Host == "":
		return fmt.Errorf("url %q is not absolute", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	default:
		return fmt.Errorf("url %q must use https", raw)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
