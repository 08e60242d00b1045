package funchost

import (
	"encoding/json"
	"testing"
)

func TestResponseEncoding(t *testing.T) {
	tests := []struct {
		name string
		resp Response
		want []byte
	}{
		{
			name: "http output golden",
			resp: Response{Outputs: map[string]any{"res": HTTPOutput{
				StatusCode: 201,
				Headers: map[string]string{
					"Content-Type": "application/json",
					"Location":     "/api/internal/v1/task-events/evt-0001",
				},
				Body: "{\"accepted\":true,\"eventId\":\"evt-0001\"}\n",
			}}},
			want: golden(t, "http_response.json"),
		},
		{
			name: "zero response has a stable shape",
			resp: Response{},
			want: []byte(`{"Outputs":{},"Logs":[],"ReturnValue":null}`),
		},
		{
			name: "logs and return value",
			resp: Response{Logs: []string{"applied evt-0042", "fan-out 3"}, ReturnValue: map[string]int{"n": 3}},
			want: []byte(`{"Outputs":{},"Logs":["applied evt-0042","fan-out 3"],"ReturnValue":{"n":3}}`),
		},
		{
			name: "body with markup and non-ascii is written as a plain json string",
			resp: Response{Outputs: map[string]any{"res": HTTPOutput{StatusCode: 404,
				Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, Body: "<nicht> gefunden & weg"}}},
			want: []byte(`{"Outputs":{"res":{"statusCode":404,"headers":{"Content-Type":"text/plain; charset=utf-8"},` +
				`"body":"<nicht> gefunden & weg"}},"Logs":[],"ReturnValue":null}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.resp)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			assertJSONEqual(t, got, tt.want)
		})
	}
}
