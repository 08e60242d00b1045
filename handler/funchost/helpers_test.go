package funchost

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// golden reads testdata/name.
func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenInvocation parses testdata/name as an invocation of function fn.
func goldenInvocation(t *testing.T, name, fn string) *Invocation {
	t.Helper()
	inv, err := ParseInvocation(fn, "3f8e2a4c-1b6d-4e7f-9a0b-c1d2e3f4a5b6", golden(t, name))
	if err != nil {
		t.Fatalf("ParseInvocation(%s): %v", name, err)
	}
	return inv
}

// normalizeJSON re-encodes b with sorted keys and no insignificant whitespace.
func normalizeJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("normalize json: %v\n%s", err, b)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func assertJSONEqual(t *testing.T, got, want []byte) {
	t.Helper()
	if g, w := normalizeJSON(t, got), normalizeJSON(t, want); g != w {
		t.Errorf("json differs\n got: %s\nwant: %s", g, w)
	}
}
