package entra

import "testing"

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		want    string
		wantMsg string // empty: success
	}{
		{"bearer token", "Bearer abc.def.ghi", "abc.def.ghi", ""},
		{"scheme in lower case", "bearer abc.def.ghi", "abc.def.ghi", ""},
		{"scheme in upper case", "BEARER abc.def.ghi", "abc.def.ghi", ""},
		{"extra spaces", "  Bearer   abc.def.ghi  ", "abc.def.ghi", ""},
		{"missing header", "", "", "missing bearer token"},
		{"only spaces", "   ", "", "missing bearer token"},
		{"Bearer alone", "Bearer", "", "missing bearer token"},
		{"Bearer and a space", "Bearer ", "", "missing bearer token"},
		{"wrong scheme", "Basic dXNlcjpwYXNz", "", "authorization scheme is not Bearer"},
		{"token without scheme", "abc.def.ghi", "", "authorization scheme is not Bearer"},
		{"scheme glued to token", "Bearerabc.def.ghi", "", "authorization scheme is not Bearer"},
		{"two tokens", "Bearer abc def", "", "malformed authorization header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BearerToken(tt.header)
			if tt.wantMsg != "" {
				if err == nil {
					t.Fatalf("got %q, want error %q", got, tt.wantMsg)
				}
				wantUnauthenticated(t, err, tt.wantMsg, "")
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %q", err, tt.want)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
