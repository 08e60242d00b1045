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
		{"missing header", "", "", "A bearer token is required: send Authorization: Bearer <access token>."},
		{"only spaces", "   ", "", "A bearer token is required: send Authorization: Bearer <access token>."},
		{"Bearer alone", "Bearer", "", "A bearer token is required: send Authorization: Bearer <access token>."},
		{"Bearer and a space", "Bearer ", "", "A bearer token is required: send Authorization: Bearer <access token>."},
		{"wrong scheme", "Basic dXNlcjpwYXNz", "", "The Authorization header must use the Bearer scheme."},
		{"token without scheme", "abc.def.ghi", "", "The Authorization header must use the Bearer scheme."},
		{"scheme glued to token", "Bearerabc.def.ghi", "", "The Authorization header must use the Bearer scheme."},
		{"two tokens", "Bearer abc def", "", "The Authorization header is malformed; send Authorization: Bearer <access token>."},
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
