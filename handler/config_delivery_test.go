package main

import (
	"strings"
	"testing"
)

func TestConfigMaxPerSubscription(t *testing.T) {
	tests := []struct {
		value   string
		want    int
		wantErr bool
	}{
		{"", 4, false},
		{"2", 2, false},
		{"0", 0, true},
		{"four", 0, true},
	}
	for _, tt := range tests {
		env := map[string]string{"NIMBUS_CALLBACK_MAX_PER_SUBSCRIPTION": tt.value, "NIMBUS_DATA_DIR": t.TempDir()}
		cfg, err := loadConfig(nil, func(k string) string { return env[k] })
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), "NIMBUS_CALLBACK_MAX_PER_SUBSCRIPTION") {
				t.Errorf("%q: got error %v, want one naming the setting", tt.value, err)
			}
			continue
		}
		if err != nil || cfg.callbackPolicy.maxPerSub != tt.want {
			t.Errorf("%q: got %d, %v; want %d", tt.value, cfg.callbackPolicy.maxPerSub, err, tt.want)
		}
	}
}
