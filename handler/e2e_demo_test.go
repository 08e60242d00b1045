package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// handler demo shows notifications as they arrive and, on Ctrl+C (SIGINT to the process
// group, as a terminal sends it), stops cleanly: exit status 0, no process of the group
// left, the port free again and the throwaway data directory removed.
func TestDemoShowsNotificationsAndStopsCleanly(t *testing.T) {
	port := freePort(t)
	addr := "127.0.0.1:" + itoa(port)
	tmp := t.TempDir()
	cmd := exec.Command(binary, "demo")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + tmp, "NIMBUS_ADDR=" + addr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })

	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen []string
	notifications := 0
	deadline := time.After(60 * time.Second)
	for notifications < 5 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the demo ended early:\n%s\nstderr:\n%s", strings.Join(seen, "\n"), stderr)
			}
			seen = append(seen, l)
			if strings.Contains(l, "  task   ") {
				notifications++
			}
		case <-deadline:
			t.Fatalf("fewer than 5 task notifications within 60 s:\n%s\nstderr:\n%s", strings.Join(seen, "\n"), stderr)
		}
	}

	if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for l := range lines {
			seen = append(seen, l)
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the demo exited with %v after SIGINT\nstderr:\n%s", err, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the demo did not stop within 30 s of SIGINT")
	}
	if !strings.Contains(strings.Join(seen, "\n"), "demo stopped") {
		t.Errorf("no stop message:\n%s", strings.Join(seen[max(0, len(seen)-5):], "\n"))
	}
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the demo's process group is still there after it stopped (kill -0: %v)", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("the demo's port %s is still taken after it stopped: %v", addr, err)
	} else {
		ln.Close()
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the demo left %d entries in its temporary directory, e.g. %s", len(left), left[0].Name())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
