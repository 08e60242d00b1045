package main

import (
	"archive/zip"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// scripts/package.sh must lay out the app as the Functions host expects it: host.json and
// every function folder at the root, and a linux/amd64 handler that is executable, also
// inside the zip.
func TestPackageLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the handler")
	}
	dist := t.TempDir()
	cmd := exec.Command("bash", "../scripts/package.sh")
	cmd.Env = append(os.Environ(), "NIMBUS_DIST="+dist)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("package.sh: %v\n%s", err, out)
	}
	app := filepath.Join(dist, "app")
	if _, err := os.Stat(filepath.Join(app, "host.json")); err != nil {
		t.Errorf("host.json not at the app root: %v", err)
	}
	fns := readFunctions(t)
	for _, fn := range fns {
		if _, err := os.Stat(filepath.Join(app, fn.name, "function.json")); err != nil {
			t.Errorf("function %s not at the app root: %v", fn.name, err)
		}
	}
	bin := filepath.Join(app, "handler")
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&0o111 == 0 {
		t.Errorf("handler is not executable: %v", st.Mode())
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("handler is not an ELF binary: %v", err)
	}
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("handler is built for %v, want x86-64", f.Machine)
	}
	f.Close()

	z, err := zip.OpenReader(filepath.Join(dist, "app.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	seen := map[string]os.FileMode{}
	for _, e := range z.File {
		seen[e.Name] = e.Mode()
	}
	if mode, ok := seen["handler"]; !ok || mode&0o111 == 0 {
		t.Errorf("app.zip: handler missing or not executable (mode %v)", mode)
	}
	if _, ok := seen["host.json"]; !ok {
		t.Error("app.zip: host.json not at the root")
	}
	for _, fn := range fns {
		if _, ok := seen[fn.name+"/function.json"]; !ok {
			t.Errorf("app.zip: %s/function.json missing", fn.name)
		}
	}
	if _, ok := seen["local.settings.json"]; ok {
		t.Error("app.zip carries local.settings.json")
	}
}
