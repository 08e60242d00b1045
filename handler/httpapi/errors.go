package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// statusOf is the one table from error kind to HTTP status.
var statusOf = map[nimbus.Kind]int{
	nimbus.KindInvalid:         http.StatusBadRequest,
	nimbus.KindUnauthenticated: http.StatusUnauthorized,
	nimbus.KindForbidden:       http.StatusForbidden,
	nimbus.KindNotFound:        http.StatusNotFound,
	nimbus.KindConflict:        http.StatusConflict,
	nimbus.KindTooLarge:        http.StatusRequestEntityTooLarge,
	nimbus.KindUnsupported:     http.StatusUnsupportedMediaType,
	nimbus.KindThrottled:       http.StatusTooManyRequests,
	nimbus.KindUnavailable:     http.StatusServiceUnavailable,
	nimbus.KindInternal:        http.StatusInternalServerError,
}

// errorBody is the connector's error format (SPEC 3).
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code          string `json:"code"`
	Message       string `json:"message"`
	Target        string `json:"target,omitempty"`
	CorrelationID string `json:"correlationId,omitempty"`
}

// defaultRetryAfter is sent with 429 and 503 when the error does not say better.
const defaultRetryAfter = 5 * time.Second

// writeError answers with err in the connector's error format. Internal errors show only
// "internal error" and a correlation id; their detail goes to the log.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *nimbus.Error
	if !errors.As(err, &e) {
		e = &nimbus.Error{Kind: nimbus.KindInternal, Err: err}
	}
	status, ok := statusOf[e.Kind]
	if !ok {
		status, e = http.StatusInternalServerError, &nimbus.Error{Kind: nimbus.KindInternal, Err: err}
	}
	id := correlationID(r)
	detail := errorDetail{Code: string(e.Kind), Message: e.Message, Target: e.Target}
	switch {
	case status >= 500 && e.Kind != nimbus.KindUnavailable:
		detail = errorDetail{Code: string(nimbus.KindInternal), Message: "internal error", CorrelationID: id}
		log.ErrorContext(r.Context(), "request failed", "correlationId", id, "method", r.Method, "route", r.Pattern, "err", err)
	case e.Kind == nimbus.KindUnavailable:
		detail.CorrelationID = id
		log.WarnContext(r.Context(), "dependency unavailable", "correlationId", id, "method", r.Method, "route", r.Pattern, "err", err)
	}
	if detail.Message == "" {
		detail.Message = defaultMessage(e.Kind)
	}
	if detail.Code != string(nimbus.KindInternal) {
		detail.Message = sentence(detail.Message, detail.Target)
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", bearerChallenge(r.Header.Get("Authorization")))
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		after := e.RetryAfter
		if after <= 0 {
			after = defaultRetryAfter
		}
		w.Header().Set("Retry-After", strconv.Itoa(int((after+time.Second-1)/time.Second)))
	}
	writeJSON(w, status, errorBody{Error: detail})
}

// sentence makes sure a message reaches the caller as a full sentence (SPEC 3): a capital
// letter first, unless the message starts with the name of a field (as "tenantId must be a
// GUID" does), and a full stop at the end. Messages are written as sentences where they are
// made; this keeps the wire format right for any that are not.
func sentence(msg, target string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return msg
	}
	first, _, _ := strings.Cut(msg, " ")
	field, _, _ := strings.Cut(target, ".")
	field, _, _ = strings.Cut(field, "[")
	if first != field && strings.Trim(first, "abcdefghijklmnopqrstuvwxyz") == "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	if !strings.ContainsAny(msg[len(msg)-1:], ".?!") {
		msg += "."
	}
	return msg
}

// bearerChallenge is the WWW-Authenticate value of a 401 (RFC 6750 section 3): a request
// without bearer credentials (no Authorization header, or another scheme) gets the bare
// challenge with no error code; a malformed Authorization header is invalid_request; a
// bearer token that was refused is invalid_token.
func bearerChallenge(authorization string) string {
	fields := strings.Fields(authorization)
	switch {
	case len(fields) == 0 || !strings.EqualFold(fields[0], "Bearer"):
		return "Bearer"
	case len(fields) != 2:
		return `Bearer error="invalid_request"`
	}
	return `Bearer error="invalid_token"`
}

func defaultMessage(k nimbus.Kind) string {
	switch k {
	case nimbus.KindInvalid:
		return "The request is not valid."
	case nimbus.KindUnauthenticated:
		return "A valid bearer token is required."
	case nimbus.KindForbidden:
		return "You are not allowed to do this."
	case nimbus.KindNotFound:
		return "Not found."
	case nimbus.KindConflict:
		return "The request conflicts with the current state."
	case nimbus.KindTooLarge:
		return "The request body is too large."
	case nimbus.KindThrottled:
		return "Too many requests; try again later."
	case nimbus.KindUnavailable:
		return "The service is temporarily unavailable, try again later."
	}
	return "internal error"
}

// writeJSON writes v with status. Encoding errors can only come from the connection and are
// not reportable to the client any more.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":{"code":"Internal","message":"internal error"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
