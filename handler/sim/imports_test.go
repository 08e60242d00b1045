package sim

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The simulator plays the other side of the contract: it may use the nimbus vocabulary for
// message shapes, but nothing of the handler's use cases, HTTP surface or adapters, so that
// it can only do what core can do over HTTP.
func TestSimulatorUsesOnlyTheContract(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	const module = "github.com/nimbusflow/connector/handler/"
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, module) && path != module+"nimbus" {
				t.Errorf("%s imports %s; the simulator may only use %snimbus", f, path, module)
			}
		}
	}
}
