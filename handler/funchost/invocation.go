package funchost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// InvocationIDHeader carries the host's id for one invocation on every request it sends.
const InvocationIDHeader = "X-Azure-Functions-InvocationId"

// Invocation is one decoded invocation request. Data holds the input bindings by binding name
// (as in function.json); Metadata holds the trigger's binding data plus "sys". Values are kept
// raw because their encoding depends on the trigger; use the helpers to read them.
type Invocation struct {
	FunctionName string
	InvocationID string
	Data         map[string]json.RawMessage
	Metadata     map[string]json.RawMessage
}

// ParseInvocation decodes an invocation request body as the host sends it. It fails only when
// the body is not a JSON object with object-valued (or absent) Data and Metadata.
func ParseInvocation(functionName, invocationID string, body []byte) (*Invocation, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("parse invocation: body is not a json object")
	}
	var wire struct {
		Data     map[string]json.RawMessage
		Metadata map[string]json.RawMessage
	}
	if err := json.Unmarshal(trimmed, &wire); err != nil {
		return nil, fmt.Errorf("parse invocation: %w", err)
	}
	inv := &Invocation{
		FunctionName: functionName,
		InvocationID: invocationID,
		Data:         wire.Data,
		Metadata:     wire.Metadata,
	}
	if inv.Data == nil {
		inv.Data = map[string]json.RawMessage{}
	}
	if inv.Metadata == nil {
		inv.Metadata = map[string]json.RawMessage{}
	}
	return inv, nil
}

// data returns the input binding named binding, or false when it is absent or null.
func (inv *Invocation) data(binding string) (json.RawMessage, bool) {
	return lookup(inv.Data, binding)
}

// meta returns the metadata value named key, or false when it is absent or null.
func (inv *Invocation) meta(key string) (json.RawMessage, bool) {
	return lookup(inv.Metadata, key)
}

// lookup finds key exactly, then ignoring case: the host's binding-data dictionaries are
// case-insensitive, so a differently cased key means the same thing.
func lookup(m map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	raw, ok := m[key]
	if !ok {
		for k, v := range m {
			if strings.EqualFold(k, key) {
				raw, ok = v, true
				break
			}
		}
	}
	raw = bytes.TrimSpace(raw)
	if !ok || len(raw) == 0 || string(raw) == "null" {
		return nil, false
	}
	return raw, true
}

// MetaString returns the metadata scalar named key as text. The host JSON-serializes scalar
// binding data before embedding it, so the string abc arrives as "\"abc\"" and the number 1 as
// "1"; both that form and a plain JSON value ("abc", 1, true) are accepted. Objects, arrays,
// null and absent keys report false.
func (inv *Invocation) MetaString(key string) (string, bool) {
	raw, ok := inv.meta(key)
	if !ok {
		return "", false
	}
	return scalarText(raw)
}

// MetaInt returns the metadata scalar named key as an integer ("1" and 1 both give 1).
func (inv *Invocation) MetaInt(key string) (int64, bool) {
	s, ok := inv.MetaString(key)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// MetaTime returns the metadata scalar named key as a time in UTC. See parseHostTime for the
// accepted forms.
func (inv *Invocation) MetaTime(key string) (time.Time, bool) {
	s, ok := inv.MetaString(key)
	if !ok {
		return time.Time{}, false
	}
	t, err := parseHostTime(s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// scalarText unwraps one JSON scalar, plus the extra layer of quoting the host adds to
// serialized strings.
func scalarText(raw json.RawMessage) (string, bool) {
	switch raw[0] {
	case '{', '[':
		return "", false
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		if inner, ok := unquoteJSONString(s); ok {
			return inner, true
		}
		// A serialized null (the host's JsonConvert.SerializeObject(null)) arrives as the
		// unquoted text null; a real string "null" would have arrived quoted.
		if s == "null" {
			return "", false
		}
		return s, true
	default:
		if !json.Valid(raw) {
			return "", false
		}
		return string(raw), true
	}
}

// unquoteJSONString reports whether s is itself a JSON string literal and, if so, returns its
// content. It is how the second layer of the host's string serialization comes off.
func unquoteJSONString(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if len(t) < 2 || t[0] != '"' || t[len(t)-1] != '"' {
		return "", false
	}
	var inner string
	if err := json.Unmarshal([]byte(t), &inner); err != nil {
		return "", false
	}
	return inner, true
}

// hostTimeLayouts are the shapes in which the host writes DateTime values. It re-parses them
// from their string form, so sub-second precision may be lost, and a DateTime of unspecified
// kind carries no offset at all ("2023-10-12T20:13:49"); Newtonsoft writes the rest as
// RFC 3339 with "Z" or an offset such as "+00:00".
var hostTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
}

// parseHostTime parses a host timestamp. A value without an offset is taken as UTC: the host
// runs in UTC and the Service Bus keys without offset are the ...Utc ones.
func parseHostTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range hostTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("parse host time %q: unknown format", s)
}

// hostTime is a time.Time that decodes from any host timestamp shape, including the
// JSON-serialized (quoted twice) form.
type hostTime struct{ time.Time }

func (t *hostTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	s, ok := scalarText(b)
	if !ok {
		return fmt.Errorf("decode host time: not a string: %.40s", b)
	}
	parsed, err := parseHostTime(s)
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}

// decodeMaybeString decodes raw into v. Older hosts JSON-serialize objects into a string
// before embedding them, so a JSON string whose content is JSON is decoded from its content.
func decodeMaybeString(raw json.RawMessage, v any) error {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		raw = json.RawMessage(s)
	}
	return json.Unmarshal(raw, v)
}
