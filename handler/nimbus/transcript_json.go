package nimbus

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A transcript may be 16 MiB. DecodeTranscript reads it token by token, decoding one
// segment at a time, so the raw body is never held whole beside the decoded value; the
// writers below encode it segment by segment for the same reason.

// DecodeTranscript reads one transcript object from r. Malformed JSON and wrong types are
// KindInvalid naming the field (segments[3].offsetMs); a failure of r itself (a body over
// its limit, a client that went away) is returned as it is, for the caller to classify.
// Unknown fields are ignored.
func DecodeTranscript(r io.Reader) (Transcript, error) {
	var t Transcript
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{', ""); err != nil {
		return t, err
	}
	fields := map[string]any{
		"tenantid": &t.TenantID, "taskid": &t.TaskID, "serviceupn": &t.ServiceUPN,
		"usersessionid": &t.UserSessionID, "userupn": &t.UserUPN, "language": &t.Language,
		"durationseconds": &t.DurationSeconds, "summary": &t.Summary, "servicesessionid": &t.ServiceSessionID,
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return t, decodeError(err, "")
		}
		key, _ := tok.(string)
		if strings.EqualFold(key, "segments") {
			if err := decodeSegments(dec, &t); err != nil {
				return t, err
			}
			continue
		}
		dst, ok := fields[strings.ToLower(key)]
		if !ok {
			var skip struct{}
			dst = &skip
		}
		if err := dec.Decode(dst); err != nil {
			return t, decodeError(err, key)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return t, decodeError(err, "")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return t, decodeError(err, "")
		}
		return t, Invalid("", "The request body must hold exactly one JSON value.")
	}
	return t, nil
}

// decodeSegments reads the segments array (or null) one element at a time.
func decodeSegments(dec *json.Decoder, t *Transcript) error {
	tok, err := dec.Token()
	if err != nil {
		return decodeError(err, "segments")
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return Invalid("segments", "segments must be a JSON array.")
	}
	for i := 0; dec.More(); i++ {
		if i >= MaxTranscriptSegments {
			return Invalid("segments", "segments must have at most %d entries", MaxTranscriptSegments)
		}
		var s TranscriptSegment
		if err := dec.Decode(&s); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				return decodeError(err, fmt.Sprintf("segments[%d].%s", i, te.Field))
			}
			return decodeError(err, fmt.Sprintf("segments[%d]", i))
		}
		t.Segments = append(t.Segments, s)
	}
	_, err = dec.Token() // the closing bracket
	return decodeError(err, "segments")
}

func expectDelim(dec *json.Decoder, want json.Delim, field string) error {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Invalid("", "A JSON request body is required.")
		}
		return decodeError(err, field)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return Invalid(field, "The request body must be a JSON object.")
	}
	return nil
}

// decodeError names field in a JSON error; other errors (the reader's) pass unchanged.
func decodeError(err error, field string) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		if te.Field != "" && !strings.HasPrefix(field, "segments[") {
			if field == "" {
				field = te.Field
			} else {
				field += "." + te.Field
			}
		}
		return Invalid(field, "%s must be a JSON %s, not %s.", field, jsonKindName(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return Invalid(field, "The request body is not valid JSON (at byte %d).", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return Invalid(field, "The request body is not valid JSON (it ends too early).")
	}
	return err
}

func jsonKindName(goKind string) string {
	switch goKind {
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	case "int", "int64", "float64":
		return "number"
	}
	return goKind
}

// WriteTranscript writes the stored form of t: its fields, then the segments one by one.
func WriteTranscript(w io.Writer, t *Transcript) error {
	return writeWithSegments(w, t, t.Segments)
}

// TranscriptView is the Transcript data type of GetVirtualAssistantData (SPEC 8).
type TranscriptView struct {
	ServiceSessionID string `json:"serviceSessionId"`
	TaskID           string `json:"taskId"`
	Language         string `json:"language"`
}

// WriteTranscriptView writes the Transcript data type of t, segments streamed.
func WriteTranscriptView(w io.Writer, t *Transcript) error {
	return writeWithSegments(w, TranscriptView{ServiceSessionID: t.ServiceSessionID, TaskID: t.TaskID, Language: t.Language}, t.Segments)
}

// writeWithSegments writes the JSON object head with a "segments" array appended, encoding
// one segment at a time through a buffer.
func writeWithSegments(w io.Writer, head any, segs []TranscriptSegment) error {
	h, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("encode transcript: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(h[:len(h)-1]) // without its closing brace; errors surface at Flush
	if len(h) > 2 {
		bw.WriteByte(',')
	}
	bw.WriteString(`"segments":[`)
	for i := range segs {
		if i > 0 {
			bw.WriteByte(',')
		}
		b, err := json.Marshal(&segs[i])
		if err != nil {
			return fmt.Errorf("encode transcript segment %d: %w", i, err)
		}
		bw.Write(b)
	}
	bw.WriteString("]}")
	return bw.Flush()
}
