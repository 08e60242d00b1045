package embedded

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// The crash test runs a child process (this test binary, re-executed) that sends crashN
// messages, then consumes them slowly, appending the ID of every message its handler
// completed to a file and fsyncing it. The parent kills it with SIGKILL half-way, reopens
// the file and checks that every message the child had not completed is delivered: nothing
// in flight, batched or half-committed is lost.
const (
	crashEnv   = "NIMBUS_TEST_QUEUE_CRASH_DIR"
	crashN     = 2000
	crashQueue = "crash"
	crashSent  = "sent"      // the child creates it once every Send has returned
	crashDone  = "completed" // the child appends completed IDs, one per line
)

func crashID(i int) string { return fmt.Sprintf("m-%04d", i) }

// TestQueueCrashChild is the child's side; it does nothing in a normal run.
func TestQueueCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("the child process of TestQueueCrash")
	}
	db, err := Open(filepath.Join(dir, "nimbus.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	qs := db.Queues(QueueOptions{Logger: slog.New(slog.DiscardHandler)})
	q := qs.Queue(crashQueue)
	for start := 0; start < crashN; start += 100 {
		var msgs []nimbus.Message
		for i := start; i < start+100; i++ {
			m := nimbus.Message{ID: crashID(i), Body: []byte(crashID(i))}
			if i%3 == 0 {
				m.SessionID = fmt.Sprint("s", i%10)
			}
			msgs = append(msgs, m)
		}
		if err := q.Send(t.Context(), msgs...); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if err := syncedWrite(filepath.Join(dir, crashSent), os.O_CREATE|os.O_WRONLY, nil); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	done := filepath.Join(dir, crashDone)
	err = qs.Run(context.Background(), crashQueue, func(ctx context.Context, m nimbus.Message) error {
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		return syncedWrite(done, os.O_CREATE|os.O_WRONLY|os.O_APPEND, []byte(m.ID+"\n"))
	}, 8)
	t.Fatalf("run returned before the kill: %v", err)
}

func syncedWrite(path string, flag int, data []byte) error {
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func TestQueueCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestQueueCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// Kill once the sends are durable and a part of the messages is completed.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, crashSent)); err == nil && len(completedIDs(t, dir)) >= crashN/5 {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("child exited early (%v):\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("child made no progress in 60 s:\n%s", out.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-exited
	completed := completedIDs(t, dir)
	if len(completed) >= crashN {
		t.Fatalf("the child completed all %d messages before the kill: the test proves nothing", crashN)
	}

	db, err := Open(filepath.Join(dir, "nimbus.db"))
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	qs := db.Queues(QueueOptions{Logger: slog.New(slog.DiscardHandler)})
	stored := qs.Len(crashQueue)
	if stored < crashN-len(completed) || stored > crashN {
		t.Fatalf("after the kill %d messages stored, want between %d (not completed) and %d", stored, crashN-len(completed), crashN)
	}
	var mu sync.Mutex
	delivered := map[string]bool{}
	all := make(chan struct{})
	runQueue(t, qs, crashQueue, 8, func(ctx context.Context, m nimbus.Message) error {
		if string(m.Body) != m.ID {
			return fmt.Errorf("message %q: got body %q", m.ID, m.Body)
		}
		mu.Lock()
		defer mu.Unlock()
		delivered[m.ID] = true
		if len(delivered) == stored {
			close(all)
		}
		return nil
	})
	select {
	case <-all:
	case <-time.After(60 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	var missing []string
	for i := range crashN {
		if id := crashID(i); !completed[id] && !delivered[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d messages lost: neither completed before the kill nor delivered after it, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
	t.Logf("killed after %d completions; %d messages stored after the kill, all delivered", len(completed), stored)
}

// completedIDs reads the IDs the child recorded; a torn last line is ignored.
func completedIDs(t *testing.T, dir string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, crashDone))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("read completed IDs: %v", err)
	}
	ids := map[string]bool{}
	lines := strings.Split(string(data), "\n")
	for _, id := range lines[:len(lines)-1] {
		ids[id] = true
	}
	return ids
}
