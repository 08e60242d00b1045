package funchost

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func TestEvery(t *testing.T) {
	tests := []struct {
		schedule string
		want     time.Duration
	}{
		{"*/5 * * * * *", 5 * time.Second},
		{"0 */1 * * * *", time.Minute},
		{"0 */15 * * * *", 15 * time.Minute},
		{"0 0 * * * *", time.Hour},
		{"0 0 */6 * * *", 6 * time.Hour},
	}
	for _, tt := range tests {
		if got, err := Every(tt.schedule); err != nil || got != tt.want {
			t.Errorf("Every(%q) = %v, %v; want %v", tt.schedule, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "* * * * *", "0 30 9 * * *", "*/0 * * * * *", "0 0 * * * 1-5", "5 */2 * * * *"} {
		if d, err := Every(bad); err == nil {
			t.Errorf("Every(%q) = %v, want an error", bad, d)
		}
	}
}

func TestTimerFunction(t *testing.T) {
	golden, err := os.ReadFile("testdata/timer.json")
	if err != nil {
		t.Fatal(err)
	}
	runs := 0
	fail := error(nil)
	h := NewHost(nil)
	h.HandleTimers(Timer{Function: "FlushCommands", Schedule: "*/5 * * * * *", Job: func(context.Context) error { runs++; return fail }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func() int {
		res, err := http.Post(srv.URL+"/FlushCommands", "application/json", strings.NewReader(string(golden)))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post(); got != 200 || runs != 1 {
		t.Errorf("timer invocation: status %d after %d runs, want 200 after 1", got, runs)
	}
	fail = errors.New("queue down")
	if got := post(); got/100 == 2 || runs != 2 {
		t.Errorf("failing job: status %d after %d runs, want non-2xx after 2", got, runs)
	}
}
