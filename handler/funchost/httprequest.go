package funchost

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// httpTriggerData is Data.<binding> of an HTTP trigger in payload mode, as the host's
// GetRequestAsJObject builds it. Identities (the host's ClaimsIdentity list) is not read: the
// handler validates the caller's bearer token itself.
type httpTriggerData struct {
	URL     string `json:"Url"`
	Method  string
	Query   json.RawMessage
	Headers json.RawMessage
	Params  json.RawMessage
	Body    json.RawMessage
}

// HTTPRequest rebuilds the original HTTP request from the HTTP trigger binding named binding,
// so that an ordinary http.Handler can serve it. The URL keeps the public path with its route
// prefix (/api/...) and the raw query; headers are copied; the body is decoded and
// Content-Length matches it. Route values (Params) are set as path values.
func (inv *Invocation) HTTPRequest(ctx context.Context, binding string) (*http.Request, error) {
	raw, ok := inv.data(binding)
	if !ok {
		return nil, fmt.Errorf("http binding %q: missing from invocation data", binding)
	}
	var d httpTriggerData
	if err := decodeMaybeString(raw, &d); err != nil {
		return nil, fmt.Errorf("http binding %q: %w", binding, err)
	}
	req, err := d.request(ctx)
	if err != nil {
		return nil, fmt.Errorf("http binding %q: %w", binding, err)
	}
	return req, nil
}

func (d *httpTriggerData) request(ctx context.Context) (*http.Request, error) {
	if d.URL == "" {
		return nil, errors.New("no url")
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", err)
	}
	if u.RawQuery == "" {
		// The Url normally carries the raw query; fall back to the parsed Query object.
		query, err := stringMap(d.Query)
		if err != nil {
			return nil, fmt.Errorf("query: %w", err)
		}
		values := url.Values{}
		for k, v := range query {
			values.Set(k, v)
		}
		u.RawQuery = values.Encode()
	}
	header, err := headerMap(d.Headers)
	if err != nil {
		return nil, fmt.Errorf("headers: %w", err)
	}
	body, err := requestBody(d.Body, header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	method := d.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header = header
	req.Host = u.Host
	if h := header.Get("Host"); h != "" {
		req.Host = h
	}
	req.Header.Del("Host") // net/http keeps Host in req.Host, never in the header map
	req.RequestURI = u.RequestURI()
	// The host re-reads a text body as a string, so its byte length can differ from the
	// original Content-Length; what the handler gets must agree with itself.
	req.ContentLength = int64(len(body))
	if len(body) > 0 {
		req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	} else {
		req.Header.Del("Content-Length")
		req.Body = http.NoBody
		req.GetBody = nil
	}
	params, err := stringMap(d.Params)
	if err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	for k, v := range params {
		req.SetPathValue(k, v)
	}
	return req, nil
}

// requestBody decodes Body. The host sends it only when Content-Length > 0: as a string for
// text types, and as base64 (a byte[] serialized by Newtonsoft) for application/octet-stream
// and multipart/* content types.
func requestBody(raw json.RawMessage, contentType string) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '"' {
		// Not what the host sends, but a JSON body embedded as a value is unambiguous.
		if !json.Valid(raw) {
			return nil, errors.New("body: invalid json")
		}
		return bytes.Clone(raw), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	if isBinaryMediaType(contentType) {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("body: %s content is not base64: %w", contentType, err)
		}
		return b, nil
	}
	return []byte(s), nil
}

// isBinaryMediaType mirrors the host's IsMediaTypeOctetOrMultipart.
func isBinaryMediaType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/octet-stream" || strings.HasPrefix(mt, "multipart/")
}

// stringMap decodes Query or Params: an object of string→string. Older hosts send Query as a
// JSON string holding the object (the docs show "Query": "{}"). Non-string values (route
// values are objects on the host side) are kept as their JSON text.
func stringMap(raw json.RawMessage) (map[string]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := decodeMaybeString(raw, &m); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		v = bytes.TrimSpace(v)
		if len(v) == 0 || string(v) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
			continue
		}
		out[k] = string(v)
	}
	return out, nil
}

// headerMap decodes Headers: an object of name→[]string (ASP.NET's header dictionary); a
// name→string object is accepted too.
func headerMap(raw json.RawMessage) (http.Header, error) {
	h := http.Header{}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return h, nil
	}
	var m map[string]json.RawMessage
	if err := decodeMaybeString(raw, &m); err != nil {
		return nil, err
	}
	for name, v := range m {
		var values []string
		if err := json.Unmarshal(v, &values); err != nil {
			var one string
			if err := json.Unmarshal(v, &one); err != nil {
				return nil, fmt.Errorf("header %q: not a string or list of strings", name)
			}
			values = []string{one}
		}
		for _, value := range values {
			h.Add(name, value)
		}
	}
	return h, nil
}
