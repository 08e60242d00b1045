package nimbus

import (
	"os/exec"
	"strings"
	"testing"
)

// The vocabulary and the use cases stay free of transport and cloud SDKs, so they can be
// tested without I/O and the adapters stay swappable (ARCHITECTURE.md).
func TestCoreImportsNoAdapters(t *testing.T) {
	for _, pkg := range []string{"github.com/nimbusflow/connector/handler/nimbus", "github.com/nimbusflow/connector/handler/app"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			switch {
			case dep == "net/http", strings.HasPrefix(dep, "github.com/Azure/"),
				strings.HasPrefix(dep, "go.etcd.io/"),
				strings.HasPrefix(dep, "github.com/nimbusflow/connector/handler/") && !strings.HasSuffix(dep, "/nimbus") && !strings.HasSuffix(dep, "/app"):
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
