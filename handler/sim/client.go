package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// TokenSource gives the bearer token for calls to the handler.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// Client speaks the core contract to one handler.
type Client struct {
	Base   string // the handler's base URL, e.g. http://127.0.0.1:8080
	Tokens TokenSource
	HTTP   *http.Client
	// FunctionKey is the Ingest function key in Azure (sent as x-functions-key); empty
	// standalone.
	FunctionKey string
}

// StatusError is a non-2xx answer of the handler.
type StatusError struct {
	Op         string
	Status     int
	Body       string
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: handler answered %d: %s", e.Op, e.Status, e.Body)
}

// Retryable says whether a failed call may succeed later: transport errors, 408, 429, 5xx.
func Retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status == 408 || se.Status == 429 || se.Status >= 500
	}
	return err != nil && !errors.Is(err, context.Canceled)
}

// resetter is a token source that can drop its cached token, e.g. after the handler restarted
// with a new dev signing key.
type resetter interface{ Reset() }

func (c *Client) do(ctx context.Context, op, method, path string, body, out any) error {
	err := c.once(ctx, op, method, path, body, out)
	var se *StatusError
	if r, ok := c.Tokens.(resetter); ok && errors.As(err, &se) && se.Status == http.StatusUnauthorized {
		r.Reset()
		err = c.once(ctx, op, method, path, body, out)
	}
	return err
}

func (c *Client) once(ctx context.Context, op, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s: encode: %w", op, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, r)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.FunctionKey != "" {
		req.Header.Set("x-functions-key", c.FunctionKey)
	}
	if c.Tokens != nil {
		tok, err := c.Tokens.Token(ctx)
		if err != nil {
			return fmt.Errorf("%s: token: %w", op, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", op, err)
	}
	if res.StatusCode/100 != 2 {
		se := &StatusError{Op: op, Status: res.StatusCode, Body: string(bytes.TrimSpace(b))}
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
			se.RetryAfter = time.Duration(s) * time.Second
		}
		return se
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s: decode answer: %w", op, err)
		}
	}
	return nil
}

// IngestResult is the 202 answer of POST /internal/v1/task-events.
type IngestResult struct {
	Accepted int `json:"accepted"`
	Ignored  int `json:"ignored"`
}

// SendEvents posts one batch of task events.
func (c *Client) SendEvents(ctx context.Context, evs []nimbus.IngestEvent) (IngestResult, error) {
	var res IngestResult
	err := c.do(ctx, "send task events", "POST", "/internal/v1/task-events", evs, &res)
	return res, err
}

// ReportAttempt posts the outcome of an outbound attempt.
func (c *Client) ReportAttempt(ctx context.Context, entryID string, r nimbus.AttemptReport) error {
	return c.do(ctx, "report attempt", "POST", "/internal/v1/scheduler-entries/"+url.PathEscape(entryID)+"/attempts", r, nil)
}

type transcriptBody struct {
	TenantID        string                     `json:"tenantId"`
	TaskID          string                     `json:"taskId"`
	ServiceUPN      string                     `json:"serviceUpn"`
	UserSessionID   string                     `json:"userSessionId,omitempty"`
	UserUPN         string                     `json:"userUpn,omitempty"`
	Language        string                     `json:"language,omitempty"`
	DurationSeconds float64                    `json:"durationSeconds"`
	Segments        []nimbus.TranscriptSegment `json:"segments"`
	Summary         *nimbus.TranscriptSummary  `json:"summary,omitempty"`
}

// PutTranscript stores a call's transcript and summary.
func (c *Client) PutTranscript(ctx context.Context, t nimbus.Transcript) error {
	b := transcriptBody{TenantID: t.TenantID, TaskID: t.TaskID, ServiceUPN: t.ServiceUPN, UserSessionID: t.UserSessionID,
		UserUPN: t.UserUPN, Language: t.Language, DurationSeconds: t.DurationSeconds, Segments: t.Segments, Summary: t.Summary}
	return c.do(ctx, "store transcript", "PUT", "/internal/v1/transcripts/"+url.PathEscape(t.ServiceSessionID), b, nil)
}

// Directory reads a tenant's directory (operator token with Nimbus.Admin).
func (c *Client) Directory(ctx context.Context, tenant string) (nimbus.Directory, error) {
	var d nimbus.Directory
	err := c.do(ctx, "read directory", "GET", "/admin/v1/tenants/"+url.PathEscape(tenant)+"/directory?tenantId="+url.QueryEscape(tenant), nil, &d)
	return d, err
}

// DevTokens mints app tokens from the handler's dev issuer (POST /dev/token) and renews
// them an hour before they expire.
type DevTokens struct {
	Base     string
	TenantID string // the operator tenant whose app tokens play Nimbus core
	AppID    string
	Roles    []string
	HTTP     *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// Token returns a valid dev app token.
func (d *DevTokens) Token(ctx context.Context) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.token != "" && time.Until(d.expires) > time.Hour {
		return d.token, nil
	}
	c := &Client{Base: d.Base, HTTP: d.HTTP}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	req := map[string]any{"tenantId": d.TenantID, "appId": d.AppID, "roles": d.Roles}
	if err := c.do(ctx, "get dev token", "POST", "/dev/token", req, &out); err != nil {
		return "", err
	}
	d.token, d.expires = out.AccessToken, time.Now().Add(time.Duration(out.ExpiresIn)*time.Second)
	return d.token, nil
}

// Reset drops the cached token; the next call mints a new one.
func (d *DevTokens) Reset() {
	d.mu.Lock()
	d.token = ""
	d.mu.Unlock()
}

// DemoInfo is the part of GET /dev/demo the simulator needs.
type DemoInfo struct {
	TenantID         string `json:"tenantId"`
	OperatorTenantID string `json:"operatorTenantId"`
}

// Demo reads GET /dev/demo.
func (c *Client) Demo(ctx context.Context) (DemoInfo, error) {
	var d DemoInfo
	err := c.do(ctx, "read demo tenant", "GET", "/dev/demo", nil, &d)
	return d, err
}
