package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bigText is about n bytes of varied text.
func bigText(n int, tag string) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(tag)
		b.WriteByte(' ')
		b.WriteString(strings.Repeat(string(rune('a'+i%26)), 1+i%7))
		b.WriteByte(' ')
	}
	return b.String()
}

// largeTranscript is a transcript body of about size bytes whose every segment says tag.
func (f *flow) largeTranscript(t *testing.T, task string, size int, tag string) []byte {
	t.Helper()
	const segment = 8000
	body := f.transcript(task, size/segment, bigText(segment-200, tag))
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (f *flow) putRaw(session string, body []byte) (reply, error) {
	req, err := http.NewRequest("PUT", f.base+"/internal/v1/transcripts/"+session, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.core)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: buf.Bytes()}, nil
}

func (f *flow) readTranscript(t *testing.T, session string) transcriptView {
	t.Helper()
	r := f.call("GET", "/v1/virtual-assistant/"+session+"/transcriptionData/Transcript", f.owner, nil)
	var v transcriptView
	if err := json.Unmarshal(r.body, &v); err != nil || r.status != 200 {
		t.Fatalf("get transcript %s: %d %.300s", session, r.status, r.body)
	}
	return v
}

func TestTranscriptTenMiBRoundTrip(t *testing.T) {
	f := startFlow(t, nil)
	body := f.largeTranscript(t, "big-task", 10<<20+(512<<10), "ten")
	if len(body) < 10<<20 {
		t.Fatalf("built %d bytes, want at least 10 MiB", len(body))
	}
	r, err := f.putRaw("big-session", body)
	if err != nil || r.status != 202 {
		t.Fatalf("store 10 MiB: %v %d %s", err, r.status, r.body)
	}
	var sent struct{ Segments []json.RawMessage }
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatal(err)
	}
	got := f.readTranscript(t, "big-session")
	if len(got.Segments) != len(sent.Segments) {
		t.Fatalf("read %d segments, stored %d", len(got.Segments), len(sent.Segments))
	}
	for i, raw := range sent.Segments {
		again, _ := json.Marshal(got.Segments[i])
		var a, b map[string]any
		_ = json.Unmarshal(raw, &a)
		_ = json.Unmarshal(again, &b)
		if a["text"] != b["text"] || a["speaker"] != b["speaker"] || a["offsetMs"] != b["offsetMs"] {
			t.Fatalf("segment %d differs after the round trip", i)
		}
	}

	over := f.largeTranscript(t, "big-task", 17<<20, "over")
	r, err = f.putRaw("big-session", over)
	if err != nil || r.status != 413 {
		t.Fatalf("store 17 MiB: %v %d %.300s, want 413", err, r.status, r.body)
	}
	if got := f.readTranscript(t, "big-session"); len(got.Segments) != len(sent.Segments) {
		t.Errorf("a refused transcript changed the stored one: %d segments", len(got.Segments))
	}
}

// hasTemp reports whether a blob write is under way (or was cut off) below dir.
func hasTemp(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}

// kill -9 while a transcript is being written, restart: the session's transcript is the old
// one or the new one, whole, never a torn mix; and no half-written file is left.
func TestTranscriptPutSurvivesKill9(t *testing.T) {
	data := t.TempDir()
	blobDir := filepath.Join(data, "blobs", "transcripts")
	f := startFlow(t, map[string]string{"NIMBUS_DATA_DIR": data})
	old := f.largeTranscript(t, "crash-task", 2<<20, "old")
	if r, err := f.putRaw("crash-session", old); err != nil || r.status != 202 {
		t.Fatalf("store the first version: %v %d", err, r.status)
	}
	current, sawTemp := "old", 0
	for attempt, tag := range []string{"new1", "new2", "new3"} {
		body := f.largeTranscript(t, "crash-task", 12<<20, tag)
		done := make(chan struct{})
		go func() {
			_, _ = f.putRaw("crash-session", body)
			close(done)
		}()
		deadline := time.Now().Add(30 * time.Second)
	wait:
		for time.Now().Before(deadline) {
			if hasTemp(blobDir) {
				sawTemp++
				break
			}
			select {
			case <-done:
				break wait
			case <-time.After(200 * time.Microsecond):
			}
		}
		_ = f.cmd.Process.Signal(syscall.SIGKILL)
		_ = f.cmd.Wait()
		<-done

		f = startFlow(t, map[string]string{"NIMBUS_DATA_DIR": data})
		if hasTemp(blobDir) {
			t.Errorf("attempt %d: a temporary file survived the restart", attempt)
		}
		got := f.readTranscript(t, "crash-session")
		if len(got.Segments) == 0 {
			t.Fatalf("attempt %d: the transcript has no segments", attempt)
		}
		version := strings.Fields(got.Segments[0].Text)[1]
		if version != current && version != tag {
			t.Fatalf("attempt %d: transcript says %q, want %q or %q", attempt, version, current, tag)
		}
		for i, s := range got.Segments {
			if strings.Fields(s.Text)[1] != version {
				t.Fatalf("attempt %d: torn transcript: segment 0 says %q, segment %d %q", attempt, version, i, strings.Fields(s.Text)[1])
			}
		}
		current = version
	}
	t.Logf("%d of 3 kills landed while the blob file was being written", sawTemp)
}
