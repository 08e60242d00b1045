package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scripts/test.sh checks the Node.js version before it installs anything, and stops with a
// message naming the version it needs when Node is too old.
func TestTestScriptChecksNodeVersion(t *testing.T) {
	for _, c := range []struct {
		version string
		ok      bool
	}{
		{"v18.20.4", false}, {"v20.11.1", false}, {"v20.18.3", false}, {"v20.19.0", true},
		{"v20.20.2", true}, {"v22.12.0", true}, {"v24.1.0", true}, {"garbage", false}, {"", false},
	} {
		t.Run(c.version, func(t *testing.T) {
			bin := t.TempDir()
			fake := "#!/bin/sh\n[ \"$1\" = --version ] && echo '" + c.version + "'\nexit 0\n"
			if err := os.WriteFile(filepath.Join(bin, "node"), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", "../scripts/test.sh", "--check-node")
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if c.ok {
				if err != nil || !strings.Contains(string(out), "recent enough") {
					t.Errorf("Node %s refused: %v\n%s", c.version, err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("Node %s accepted:\n%s", c.version, out)
			}
			if !strings.Contains(string(out), "Node.js 20.19.0 or later is needed") {
				t.Errorf("the message does not say which Node is needed:\n%s", out)
			}
		})
	}
}
