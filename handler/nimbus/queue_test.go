package nimbus

import (
	"strings"
	"testing"
)

func TestScopedID(t *testing.T) {
	const a, b = "3c9d4b7e-2a61-4f0e-9b8d-5e7a1c2f4d60", "7f3e2d1c-0b9a-4876-9543-210fedcba987"
	long := strings.Repeat("x", 200)
	tests := []struct {
		name, tenant, id, want string
	}{
		{"short id", a, "e-1001", a + "/e-1001"},
		{"long id hashed", a, long, a + "/#"},
		{"leading # hashed", a, "#abc", a + "/#"},
		{"long tenant", strings.Repeat("t", 125), "e-1001", "#"},
	}
	for _, tt := range tests {
		got := ScopedID(tt.tenant, tt.id)
		if !strings.HasPrefix(got, tt.want) || len(got) > MaxMessageID {
			t.Errorf("%s: ScopedID = %q, want prefix %q and at most %d bytes", tt.name, got, tt.want, MaxMessageID)
		}
		if again := ScopedID(tt.tenant, tt.id); again != got {
			t.Errorf("%s: not deterministic: %q then %q", tt.name, got, again)
		}
	}
	for _, id := range []string{"e-1001", long, "#abc"} {
		if ScopedID(a, id) == ScopedID(b, id) {
			t.Errorf("id %.20q: both tenants get %q", id, ScopedID(a, id))
		}
	}
	hashed := ScopedID(a, long)
	if ScopedID(a, strings.TrimPrefix(hashed, a+"/")) == hashed {
		t.Error("an id that looks like a hash collides with a hashed one")
	}
}
