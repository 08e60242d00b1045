package nimbus

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

const (
	// DefaultSigningGrace is how long the previous secret keeps signing after a rotation when
	// the import does not say: long enough for every receiver to pick up the new secret.
	DefaultSigningGrace = 24 * time.Hour
	// MaxSigningGrace bounds a rotation's grace period: two valid secrets are a wider door.
	MaxSigningGrace = 7 * 24 * time.Hour
)

// SigningSecrets are a tenant's webhook signing secrets (Standard Webhooks). During a
// rotation's grace period both secrets sign each notification, so receivers can switch to
// the new secret without missing one.
type SigningSecrets struct {
	Current           string    `json:"current,omitempty"`
	CurrentSetAt      time.Time `json:"currentSetAt,omitzero"`
	Previous          string    `json:"previous,omitempty"`
	PreviousExpiresAt time.Time `json:"previousExpiresAt,omitzero"`
}

// Active returns the secrets that sign a notification sent at now, separated by spaces as
// webhook.Client.Post takes them: the current one, then the previous one while its grace
// lasts. "" means notifications are not signed.
func (k SigningSecrets) Active(now time.Time) string {
	if k.Current == "" {
		return ""
	}
	if k.Previous != "" && now.Before(k.PreviousExpiresAt) {
		return k.Current + " " + k.Previous
	}
	return k.Current
}

// ApplySigning turns the write-only signing fields of an import into the secrets to store,
// starting from the stored ones: a new SigningSecret rotates (the current secret becomes the
// previous one until PreviousSigningSecretExpiresAt, by default DefaultSigningGrace from
// now), the same one changes nothing, "" removes both, and an absent one keeps them. The
// write-only and read-only fields are cleared; the result is in s.Signing.
func (s *TenantSettings) ApplySigning(stored SigningSecrets, now time.Time) error {
	k := stored
	if s.SigningSecret != nil {
		secret := strings.TrimSpace(*s.SigningSecret)
		switch {
		case secret == "":
			k = SigningSecrets{}
		case secret == k.Current:
		default:
			if _, err := SigningKey(secret); err != nil {
				return Invalid("settings.signingSecret", "settings.signingSecret must be base64 of 24 to 64 random bytes, optionally prefixed with whsec_.")
			}
			if k.Current != "" {
				k.Previous, k.PreviousExpiresAt = k.Current, now.Add(DefaultSigningGrace)
			}
			k.Current, k.CurrentSetAt = secret, now
		}
	}
	if at := s.PreviousSigningSecretExpiresAt; at != nil && k.Previous != "" {
		if at.After(now.Add(MaxSigningGrace)) {
			return Invalid("settings.previousSigningSecretExpiresAt", "settings.previousSigningSecretExpiresAt must be at most %s after now.", humanDuration(MaxSigningGrace))
		}
		k.PreviousExpiresAt = at.UTC()
	}
	if k.Previous != "" && !now.Before(k.PreviousExpiresAt) {
		k.Previous, k.PreviousExpiresAt = "", time.Time{}
	}
	s.Signing = k
	s.SigningSecret, s.PreviousSigningSecretExpiresAt = nil, nil
	s.SigningSecretSet, s.SigningSecretSetAt = false, nil
	return nil
}

// View returns the settings as the API shows them at now: whether a secret is set and since
// when, and when the previous one stops signing, never the secrets themselves.
func (s TenantSettings) View(now time.Time) TenantSettings {
	k := s.Signing
	// Start from every setting and take the secrets out, so a setting added later is
	// exported without being listed here.
	v := s
	v.SigningSecret, v.Signing = nil, SigningSecrets{}
	v.SigningSecretSet, v.SigningSecretSetAt, v.PreviousSigningSecretExpiresAt = false, nil, nil
	if k.Current != "" {
		v.SigningSecretSet = true
		if !k.CurrentSetAt.IsZero() {
			at := k.CurrentSetAt
			v.SigningSecretSetAt = &at
		}
		if k.Previous != "" && now.Before(k.PreviousExpiresAt) {
			at := k.PreviousExpiresAt
			v.PreviousSigningSecretExpiresAt = &at
		}
	}
	return v
}

func humanDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// SigningKey decodes a webhook signing secret ("whsec_" + base64, or plain base64).
func SigningKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return nil, err
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("signing key must be 24 to 64 bytes, got %d", len(key))
	}
	return key, nil
}
