package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// ErrAddressNotAllowed is Attempt.Err when the Policy refuses the callback URL or the
// address its host resolves to. Such an Attempt has Status 0, which Attempt.Classify
// reports as a retry; callers should compare Err with this constant and fail the delivery
// permanently instead, since no retry can succeed until the URL or the policy changes. It
// is nimbus.AttemptRefused, the text the app package compares with.
const ErrAddressNotAllowed = nimbus.AttemptRefused

// Defaults of Config (SPEC 4.4).
const (
	DefaultTimeout    = 30 * time.Second
	DefaultMaxPerHost = 64
	DefaultUserAgent  = "NimbusFlow-Connector/1 (webhook)"
)

// maxResponseBody is how much of a callback's answer is read before the connection is
// dropped: only the status and Retry-After matter, and a receiver must not be able to keep
// a worker busy by streaming.
const maxResponseBody = 64 << 10

// Config configures a Client. Zero fields take the defaults.
type Config struct {
	Policy     Policy
	Timeout    time.Duration // per attempt: connect, TLS, request, response headers and body; default 30 s
	MaxPerHost int           // concurrent requests per callback host (see Acquire); default 64
	// Resolver resolves callback host names; default net.DefaultResolver.LookupNetIP for
	// "ip". Tests inject one to play DNS tricks without a DNS server.
	Resolver  func(ctx context.Context, host string) ([]netip.Addr, error)
	UserAgent string // default DefaultUserAgent
}

// Client posts notification attempts. It is safe for concurrent use; create one per
// process so connections to a callback host are reused.
type Client struct {
	policy     Policy
	timeout    time.Duration
	userAgent  string
	maxPerHost int
	resolve    func(ctx context.Context, host string) ([]netip.Addr, error)
	// dialAddr connects to an address that has passed the policy. Tests replace it to
	// observe which addresses are dialled without leaving the loopback interface.
	dialAddr  func(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error)
	transport *http.Transport
	http      *http.Client

	mu       sync.Mutex
	inFlight map[string]hostSlots // per hostKey; entries are removed when they drop to zero
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	c := &Client{
		policy:     cfg.Policy,
		timeout:    cfg.Timeout,
		userAgent:  cfg.UserAgent,
		maxPerHost: cfg.MaxPerHost,
		resolve:    cfg.Resolver,
		inFlight:   make(map[string]hostSlots),
	}
	// The caller keeps its slice; a later edit of it must not race with CheckURL.
	c.policy.AllowedHosts = append([]string(nil), cfg.Policy.AllowedHosts...)
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxPerHost <= 0 {
		c.maxPerHost = DefaultMaxPerHost
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.resolve == nil {
		c.resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	c.dialAddr = newDialer(c.policy, c.timeout)
	c.transport = &http.Transport{
		// No proxy, not even from the environment: a proxy would make the connection
		// (and the DNS lookup) for us, past the address checks of dialContext.
		Proxy:       nil,
		DialContext: c.dialContext,
		// A custom DialContext turns HTTP/2 off unless asked for; Logic Apps endpoints
		// speak it, and one multiplexed connection per host is cheaper than many.
		ForceAttemptHTTP2:   true,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: c.timeout,
		// Keep-alives stay on: a burst to one flow reuses its connections. As many idle
		// connections per host as requests may be in flight to it.
		MaxIdleConnsPerHost:    c.maxPerHost,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: maxResponseBody,
		// Bodies are discarded; do not ask for gzip only to inflate it.
		DisableCompression: true,
	}
	c.http = &http.Client{
		Transport: c.transport,
		// Never follow redirects: the target would escape CheckURL (a 302 to
		// http://169.254.169.254/ is the classic SSRF), and a callback that moved is a
		// configuration error. The 3xx is returned as the attempt's status.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// Post sends one notification attempt and reports what happened; it never returns an error.
// id is the webhook-id, the same for every retry of one delivery; body is the JSON payload;
// secret is the tenant's Standard Webhooks signing secret ("whsec_" + base64, or base64), or
// during a rotation several of them separated by spaces (nimbus.SigningSecrets.Active): each
// adds one signature to webhook-signature, space-separated as the scheme allows. "" sends no
// signature.
//
// The URL is checked against the Policy first, then its resolved addresses when connecting;
// a refusal is Attempt{Err: ErrAddressNotAllowed} and nothing is sent. A transport failure
// is Status 0 with a short Err ("timeout", "connection refused", ...) that never contains
// the URL. Once a status line arrives it is the result, even if reading the rest of the
// answer fails. Redirects are returned, not followed. Post does not take a host slot; the
// caller does, with Acquire.
func (c *Client) Post(ctx context.Context, url, id string, body []byte, secret string) nimbus.Attempt {
	if err := c.policy.CheckURL(url); err != nil {
		return nimbus.Attempt{Err: ErrAddressNotAllowed}
	}
	var keys [][]byte
	for _, secret := range strings.Fields(secret) {
		k, err := nimbus.SigningKey(secret)
		if err != nil {
			// The tenant asked for signed notifications; sending this one unsigned would
			// hide the misconfiguration. The attempt fails (a retry, by Classify) so the
			// delivery goes through once the secret is fixed.
			return nimbus.Attempt{Err: errTextSecret}
		}
		keys = append(keys, k)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nimbus.Attempt{Err: errTextRequest}
	}
	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", timestamp)
	if len(keys) > 0 {
		req.Header.Set("webhook-signature", sign(keys, id, timestamp, body))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nimbus.Attempt{Err: transportError(ctx, err)}
	}
	// Draining a little lets a keep-alive connection be reused; the rest is not worth the
	// wait, and closing early just costs that connection.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	_ = resp.Body.Close()
	return nimbus.Attempt{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
}

// sign returns the Standard Webhooks signature header value: for each key "v1," and the
// base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}"), separated by spaces, so a receiver
// holding any one of the keys can verify the notification.
func sign(keys [][]byte, id, timestamp string, body []byte) string {
	sigs := make([]string, 0, len(keys))
	for _, key := range keys {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id))
		m.Write([]byte{'.'})
		m.Write([]byte(timestamp))
		m.Write([]byte{'.'})
		m.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

// retryAfter parses a Retry-After value (delay seconds or an HTTP date, relative to now),
// capped at nimbus.MaxRetryAfter. Absent, malformed or past values are 0.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(nimbus.MaxRetryAfter/time.Second) {
			return nimbus.MaxRetryAfter // only an overflow fails on digits
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(t.Sub(now), 0), nimbus.MaxRetryAfter)
}
