package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startWithFileLimit runs the handler like start, under a file size limit (ulimit -f, in KiB)
// that stands in for a full disk: writes beyond it fail with EFBIG as they would with ENOSPC.
func startWithFileLimit(t *testing.T, env map[string]string, limitKiB int) *proc {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command("sh", "-c", fmt.Sprintf(`ulimit -f %d && exec "$0"`, limitKiB), binary)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), fmt.Sprintf("NIMBUS_ADDR=127.0.0.1:%d", port)}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{t: t, cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop() })
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(p.base + "/"); err == nil {
			res.Body.Close()
			return p
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("handler did not answer GET /\nstderr:\n%s", p.stderr)
	return nil
}

// When the disk is full, writes answer 503 with Retry-After (the condition passes once space
// is freed), never 500, and what is stored stays readable.
func TestFullDiskAnswers503(t *testing.T) {
	p := startWithFileLimit(t, map[string]string{"NIMBUS_DATA_DIR": t.TempDir()}, 4096)
	d := p.demo()
	tok := p.token(d.TenantID, d.Users.TenantAdmin)
	path := "/v2/AddressBooks/" + d.AddressBooks[0].ID + "/contacts"
	street := strings.Repeat("Ä", 1000)
	var stored []string
	for i := 0; ; i++ {
		if i == 2000 {
			t.Fatalf("%d contacts stored without filling a 4 MiB file limit", len(stored))
		}
		id := fmt.Sprintf("full-%d", i)
		addrs := make([]map[string]string, 10)
		for j := range addrs {
			addrs[j] = map[string]string{"street": street}
		}
		r := p.call("POST", path, tok, map[string]any{"externalId": id, "addresses": addrs})
		if r.status == 201 || r.status == 200 {
			stored = append(stored, id)
			continue
		}
		if r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Fatalf("write on a full disk: got %d (Retry-After %q) %s, want 503 with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
		}
		t.Logf("full after %d contacts: %d %s", len(stored), r.status, r.body)
		break
	}
	if len(stored) == 0 {
		t.Fatal("the disk was full before any contact was stored; the limit is too small for this test")
	}
	r := p.call("GET", path+"?externalIds="+stored[len(stored)-1], tok, nil)
	if r.status != 200 || !strings.Contains(string(r.body), stored[len(stored)-1]) {
		t.Errorf("reading a stored contact on a full disk: %d %s", r.status, r.body)
	}
}
