package funchost

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
)

// HTTPFunction adapts an ordinary http.Handler to payload mode: it rebuilds the request from
// the HTTP trigger binding named binding, serves it through h, and returns h's response as
// the http output binding named output.
//
// Whatever status h writes (404, 500 …) travels inside a successful invocation as
// Outputs[output].statusCode: a non-2xx invocation response would make the host fail the
// invocation and answer the caller with a bare 500 instead. Only a payload the request cannot
// be rebuilt from fails the invocation. Headers carry their first value; Content-Type is
// always set, sniffed as net/http would when h did not set it. The body must be UTF-8 text
// (see HTTPOutput).
func HTTPFunction(h http.Handler, binding, output string) Func {
	return func(ctx context.Context, inv *Invocation) (Response, error) {
		req, err := inv.HTTPRequest(ctx, binding)
		if err != nil {
			return Response{}, fmt.Errorf("http function %s: %w", inv.FunctionName, err)
		}
		rec := newRecorder()
		h.ServeHTTP(rec, req)
		return Response{Outputs: map[string]any{output: rec.output()}}, nil
	}
}

// recorder is the http.ResponseWriter HTTPFunction hands to the handler. It follows
// net/http's rules where a handler can tell the difference: the first WriteHeader wins,
// Write implies 200, headers changed after the header is written do not count, and 1xx
// informational statuses are not final.
type recorder struct {
	header      http.Header
	sent        http.Header // snapshot at WriteHeader
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

var _ http.ResponseWriter = (*recorder)(nil)

func newRecorder() *recorder {
	return &recorder{header: http.Header{}}
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.wroteHeader || status < 200 || status > 999 {
		return
	}
	r.status = status
	r.wroteHeader = true
	r.sent = r.header.Clone()
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	return r.body.Write(p)
}

// Flush lets handlers that flush (http.Flusher) run unchanged; the body is buffered anyway.
func (r *recorder) Flush() {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
}

func (r *recorder) output() HTTPOutput {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	headers := make(map[string]string, len(r.sent)+1)
	for name, values := range r.sent {
		if len(values) > 0 {
			headers[name] = values[0]
		}
	}
	// The host sets the response Content-Type only from this header; without it the caller
	// gets none at all.
	if r.sent.Get("Content-Type") == "" {
		headers["Content-Type"] = http.DetectContentType(r.body.Bytes())
	}
	return HTTPOutput{StatusCode: r.status, Headers: headers, Body: r.body.String()}
}
