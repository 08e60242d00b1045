package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHelpAndVersionFlags runs the real binary: -h and --help print the usage and exit 0,
// --version prints the version and exits 0, an unknown flag exits non-zero. A bad setting in
// the environment does not stop help or version from answering.
func TestHelpAndVersionFlags(t *testing.T) {
	cases := []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		{[]string{"-h"}, 0, "Usage: handler"},
		{[]string{"--help"}, 0, "Usage: handler"},
		{[]string{"-help"}, 0, "Usage: handler"},
		{[]string{"--version"}, 0, "handler dev"},
		{[]string{"-version"}, 0, "handler dev"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			cmd := exec.Command(binary, c.args...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NIMBUS_MAX_CONTACTS_PER_BOOK=not-a-number"}
			out, err := cmd.Output()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.wantCode {
				t.Fatalf("exit code %d, want %d; stdout:\n%s", code, c.wantCode, out)
			}
			if !strings.Contains(string(out), c.wantOut) {
				t.Fatalf("stdout %q does not contain %q", out, c.wantOut)
			}
		})
	}
	t.Run("version from the build", func(t *testing.T) {
		bin := t.TempDir() + "/handler"
		build := exec.Command("go", "build", "-ldflags", "-X main.version=1.2.3-test", "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin, "--version").Output()
		if err != nil {
			t.Fatalf("--version: %v", err)
		}
		if got := strings.TrimSpace(string(out)); got != "handler 1.2.3-test" {
			t.Fatalf("--version printed %q, want %q", got, "handler 1.2.3-test")
		}
	})
	t.Run("unknown flag", func(t *testing.T) {
		cmd := exec.Command(binary, "--no-such-flag")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
			t.Fatalf("an unknown flag must exit non-zero, got %v", err)
		}
	})
}
