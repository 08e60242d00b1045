package app

import (
	"encoding/json"
	"strings"
	"testing"
)

// A settings row stored before rotation existed keeps signing with its one secret, and the
// export never shows it.
func TestLegacySigningSecretRow(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	s, err := decodeSettings([]byte(`{"revokedAccess":"legacy","signingSecret":"` + secret + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Signing.Current != secret || s.SigningSecret != nil || s.RevokedAccess != "legacy" {
		t.Errorf("decoded %+v", s)
	}
	out, _ := json.Marshal(s)
	if strings.Contains(string(out), "MfKQ9r8") {
		t.Errorf("settings marshal with the secret: %s", out)
	}
	row, _ := json.Marshal(settingsRow{TenantSettings: s, Signing: s.Signing})
	back, err := decodeSettings(row)
	if err != nil || back.Signing != s.Signing {
		t.Errorf("stored row %s reads back as %+v (%v)", row, back, err)
	}
}
