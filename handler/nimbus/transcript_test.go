package nimbus

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestDecodeTranscriptNamesTheField(t *testing.T) {
	cases := []struct {
		name, body, target string
	}{
		{"NotAnObject", `[1]`, ""},
		{"Empty", ``, ""},
		{"Malformed", `{"tenantId":`, "tenantId"},
		{"TenantType", `{"tenantId":5}`, "tenantId"},
		{"DurationType", `{"durationSeconds":"long"}`, "durationSeconds"},
		{"SegmentsType", `{"segments":{}}`, "segments"},
		{"SegmentField", `{"segments":[{"speaker":"User"},{"offsetMs":"x"}]}`, "segments[1].offsetMs"},
		{"SegmentType", `{"segments":[1]}`, "segments[0]"},
		{"SummaryField", `{"summary":{"title":7}}`, "summary.title"},
		{"TwoValues", `{} {}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeTranscript(strings.NewReader(c.body))
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindInvalid || e.Target != c.target {
				t.Errorf("got %v, want InvalidArgument naming %q", err, c.target)
			}
		})
	}
}

// errReader fails after its content, like a body cut off by its size limit.
type errReader struct {
	r   *strings.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	if e.r.Len() == 0 {
		return 0, e.err
	}
	return e.r.Read(p)
}

func TestDecodeTranscriptPassesReadErrors(t *testing.T) {
	limit := errors.New("body too large")
	_, err := DecodeTranscript(&errReader{r: strings.NewReader(`{"segments":[{"text":"abc"},`), err: limit})
	if !errors.Is(err, limit) {
		t.Errorf("got %v, want the reader's own error", err)
	}
}

func TestTranscriptRoundTrip(t *testing.T) {
	in := Transcript{
		ServiceSessionID: "s-1", TenantID: "3c9d4b7e-2a61-4f0e-9b8d-5e7a1c2f4d60", TaskID: "t-1", ServiceUPN: "cc@contoso.com",
		UserSessionID: "u-1", UserUPN: "agent@contoso.com", Language: "de-CH", DurationSeconds: 12.5,
		Segments: []TranscriptSegment{{Speaker: SpeakerCustomer, OffsetMs: 0, DurationMs: 900, Text: "Grüezi \"quoted\""}, {Speaker: SpeakerUser, UserUPN: "agent@contoso.com", OffsetMs: 900, DurationMs: 400, Text: "Hallo"}},
		Summary:  &TranscriptSummary{Title: "T", Issue: "I", Resolution: "R", Recap: "C", Narrative: "N"},
	}
	if err := in.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	var buf bytes.Buffer
	if err := WriteTranscript(&buf, &in); err != nil {
		t.Fatal(err)
	}
	out, err := DecodeTranscript(&buf)
	if err != nil {
		t.Fatalf("decode what was written: %v", err)
	}
	if out.TaskID != in.TaskID || out.ServiceSessionID != in.ServiceSessionID || len(out.Segments) != 2 || out.Segments[0] != in.Segments[0] || out.Segments[1] != in.Segments[1] || *out.Summary != *in.Summary {
		t.Errorf("round trip: got %+v, want %+v", out, in)
	}
	buf.Reset()
	empty := in
	empty.Segments = nil
	if err := WriteTranscriptView(&buf, &empty); err != nil || !strings.Contains(buf.String(), `"segments":[]`) {
		t.Errorf("view without segments: %s (%v), want an empty segments array", buf.String(), err)
	}
}

func TestCheckSessionID(t *testing.T) {
	for _, bad := range []string{"", "a/b", `a\b`, "a#b", "a?b", ".", "..", ".tmp-1", strings.Repeat("x", 200), "tab\there"} {
		if CheckSessionID("serviceSessionId", bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, ok := range []string{"a", "0f8e2c1a-session", "Sitzung-ä"} {
		if err := CheckSessionID("serviceSessionId", ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}
