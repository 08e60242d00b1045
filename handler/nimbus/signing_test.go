package nimbus

import (
	"testing"
	"time"
)

func TestApplySigning(t *testing.T) {
	const s1, s2 = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC"
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	stored := SigningSecrets{Current: s1, CurrentSetAt: now.Add(-time.Hour)}
	rotating := SigningSecrets{Current: s2, CurrentSetAt: now.Add(-time.Hour), Previous: s1, PreviousExpiresAt: now.Add(time.Hour)}
	tests := []struct {
		name    string
		stored  SigningSecrets
		in      TenantSettings
		want    SigningSecrets
		active  string
		invalid string
	}{
		{"first secret", SigningSecrets{}, TenantSettings{SigningSecret: str(s1)}, SigningSecrets{Current: s1, CurrentSetAt: now}, s1, ""},
		{"absent keeps", stored, TenantSettings{}, stored, s1, ""},
		{"same secret keeps", stored, TenantSettings{SigningSecret: str(s1)}, stored, s1, ""},
		{"new secret rotates", stored, TenantSettings{SigningSecret: str(s2)},
			SigningSecrets{Current: s2, CurrentSetAt: now, Previous: s1, PreviousExpiresAt: now.Add(DefaultSigningGrace)}, s2 + " " + s1, ""},
		{"rotation with its grace", stored, TenantSettings{SigningSecret: str(s2), PreviousSigningSecretExpiresAt: at(2 * time.Hour)},
			SigningSecrets{Current: s2, CurrentSetAt: now, Previous: s1, PreviousExpiresAt: now.Add(2 * time.Hour)}, s2 + " " + s1, ""},
		{"grace ended early", rotating, TenantSettings{PreviousSigningSecretExpiresAt: at(-time.Second)},
			SigningSecrets{Current: s2, CurrentSetAt: now.Add(-time.Hour)}, s2, ""},
		{"empty removes", rotating, TenantSettings{SigningSecret: str("")}, SigningSecrets{}, "", ""},
		{"grace too long", stored, TenantSettings{SigningSecret: str(s2), PreviousSigningSecretExpiresAt: at(MaxSigningGrace + time.Minute)}, SigningSecrets{}, "", "settings.previousSigningSecretExpiresAt"},
		{"bad secret", stored, TenantSettings{SigningSecret: str("whsec_short")}, SigningSecrets{}, "", "settings.signingSecret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.in
			err := s.ApplySigning(tt.stored, now)
			if tt.invalid != "" {
				if e, ok := err.(*Error); !ok || e.Kind != KindInvalid || e.Target != tt.invalid {
					t.Fatalf("got %v, want InvalidArgument at %s", err, tt.invalid)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Signing != tt.want || s.SigningSecret != nil || s.PreviousSigningSecretExpiresAt != nil {
				t.Errorf("got %+v, want %+v", s, tt.want)
			}
			if got := s.Signing.Active(now); got != tt.active {
				t.Errorf("active: got %q, want %q", got, tt.active)
			}
			v := s.View(now)
			if v.Signing != (SigningSecrets{}) || v.SigningSecret != nil || v.SigningSecretSet != (tt.want.Current != "") {
				t.Errorf("view: %+v", v)
			}
		})
	}
	if got := rotating.Active(now.Add(2 * time.Hour)); got != s2 {
		t.Errorf("after the grace: signing with %q, want only the current secret", got)
	}
}
