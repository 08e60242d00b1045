package main

import (
	"strings"
	"testing"
)

func TestConfigConsoleSignIn(t *testing.T) {
	tests := []struct {
		name          string
		env           map[string]string
		wantErr       string // a setting the error names; empty: no error
		wantClient    string
		wantAuthority string
	}{
		{"nothing set: dev and pasted tokens only", nil, "", "", defaultConsoleAuthority},
		{"Entra sign-in", map[string]string{"NIMBUS_CONSOLE_CLIENT_ID": "c0ffee00-0000-0000-0000-000000000001", "NIMBUS_CONSOLE_SCOPE": "api://nimbusflow.example.com/user_impersonation"},
			"", "c0ffee00-0000-0000-0000-000000000001", defaultConsoleAuthority},
		{"own authority, trailing slash trimmed", map[string]string{"NIMBUS_CONSOLE_AUTHORITY": "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/"},
			"", "", "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111"},
		{"client id without scope", map[string]string{"NIMBUS_CONSOLE_CLIENT_ID": "c0ffee00-0000-0000-0000-000000000001"}, "NIMBUS_CONSOLE_SCOPE", "", ""},
		{"authority over http", map[string]string{"NIMBUS_CONSOLE_AUTHORITY": "http://login.example.com/common"}, "NIMBUS_CONSOLE_AUTHORITY", "", ""},
		{"authority not a URL", map[string]string{"NIMBUS_CONSOLE_AUTHORITY": "organizations"}, "NIMBUS_CONSOLE_AUTHORITY", "", ""},
		{"client id with a path", map[string]string{"NIMBUS_CONSOLE_CLIENT_ID": "abc/def", "NIMBUS_CONSOLE_SCOPE": "x"}, "NIMBUS_CONSOLE_CLIENT_ID", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"NIMBUS_DATA_DIR": t.TempDir()}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := loadConfig(nil, func(k string) string { return env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.console.ClientID != tt.wantClient || cfg.console.Authority != tt.wantAuthority {
				t.Errorf("got client %q authority %q, want %q %q", cfg.console.ClientID, cfg.console.Authority, tt.wantClient, tt.wantAuthority)
			}
		})
	}
}
