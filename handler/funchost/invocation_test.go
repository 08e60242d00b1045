package funchost

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseInvocation(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		wantErr      bool
		wantData     int
		wantMetadata int
	}{
		{name: "data and metadata", body: `{"Data":{"a":"1","b":{}},"Metadata":{"sys":{}}}`, wantData: 2, wantMetadata: 1},
		{name: "lower-case keys", body: `{"data":{"a":"1"},"metadata":{}}`, wantData: 1},
		{name: "absent maps", body: `{}`},
		{name: "null maps", body: ` {"Data":null,"Metadata":null}`},
		{name: "empty body", body: ``, wantErr: true},
		{name: "json null", body: `null`, wantErr: true},
		{name: "array", body: `[]`, wantErr: true},
		{name: "truncated", body: `{"Data":{"a":`, wantErr: true},
		{name: "data not an object", body: `{"Data":"x"}`, wantErr: true},
		{name: "trailing garbage", body: `{"Data":{}} x`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := ParseInvocation("Fn", "id-1", []byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got nil error, want one")
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if inv.FunctionName != "Fn" || inv.InvocationID != "id-1" {
				t.Errorf("got name %q id %q, want Fn id-1", inv.FunctionName, inv.InvocationID)
			}
			if inv.Data == nil || inv.Metadata == nil {
				t.Fatalf("got nil maps, want empty maps")
			}
			if got := len(inv.Data); got != tt.wantData {
				t.Errorf("got %d data entries, want %d", got, tt.wantData)
			}
			if got := len(inv.Metadata); got != tt.wantMetadata {
				t.Errorf("got %d metadata entries, want %d", got, tt.wantMetadata)
			}
		})
	}
}

func metaInvocation(t *testing.T, metadata string) *Invocation {
	t.Helper()
	inv, err := ParseInvocation("Fn", "", []byte(`{"Data":{},"Metadata":`+metadata+`}`))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestMetaString(t *testing.T) {
	inv := metaInvocation(t, `{
		"quoted": "\"abc\"",
		"plain": "abc",
		"number": 1,
		"serializedNumber": "1",
		"bool": true,
		"quotedEmpty": "\"\"",
		"quotedNull": "\"null\"",
		"serializedNull": "null",
		"null": null,
		"object": {"a": 1},
		"array": [1],
		"escaped": "\"tenant/\\\"task\\\"\"",
		"MixedCase": "\"x\""
	}`)
	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{key: "quoted", want: "abc", wantOK: true},
		{key: "plain", want: "abc", wantOK: true},
		{key: "number", want: "1", wantOK: true},
		{key: "serializedNumber", want: "1", wantOK: true},
		{key: "bool", want: "true", wantOK: true},
		{key: "quotedEmpty", want: "", wantOK: true},
		{key: "quotedNull", want: "null", wantOK: true},
		{key: "serializedNull"},
		{key: "null"},
		{key: "object"},
		{key: "array"},
		{key: "missing"},
		{key: "escaped", want: `tenant/"task"`, wantOK: true},
		{key: "mixedcase", want: "x", wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := inv.MetaString(tt.key)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("MetaString(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestMetaInt(t *testing.T) {
	inv := metaInvocation(t, `{"serialized":"1","plain":42,"quoted":"\"7\"","big":"9007199254740993",
		"negative":"-3","float":"1.5","text":"\"abc\"","object":{}}`)
	tests := []struct {
		key    string
		want   int64
		wantOK bool
	}{
		{key: "serialized", want: 1, wantOK: true},
		{key: "plain", want: 42, wantOK: true},
		{key: "quoted", want: 7, wantOK: true},
		{key: "big", want: 9007199254740993, wantOK: true},
		{key: "negative", want: -3, wantOK: true},
		{key: "float"},
		{key: "text"},
		{key: "object"},
		{key: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := inv.MetaInt(tt.key)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("MetaInt(%q) = %d, %v; want %d, %v", tt.key, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestMetaTime(t *testing.T) {
	base := time.Date(2023, 10, 12, 20, 13, 49, 0, time.UTC)
	inv := metaInvocation(t, `{
		"noOffset": "2023-10-12T20:13:49",
		"utcOffset": "2023-10-12T20:13:49+00:00",
		"zulu": "2023-10-12T20:13:49Z",
		"fraction": "2023-10-12T20:13:49.640002Z",
		"sevenDigits": "2023-10-12T20:13:49.6400021",
		"otherOffset": "2023-10-12T22:13:49+02:00",
		"serialized": "\"2023-10-12T20:13:49.640002Z\"",
		"dateOnly": "2023-10-12",
		"text": "\"soon\"",
		"number": 1
	}`)
	tests := []struct {
		key    string
		want   time.Time
		wantOK bool
	}{
		{key: "noOffset", want: base, wantOK: true},
		{key: "utcOffset", want: base, wantOK: true},
		{key: "zulu", want: base, wantOK: true},
		{key: "fraction", want: base.Add(640002 * time.Microsecond), wantOK: true},
		{key: "sevenDigits", want: base.Add(640002100 * time.Nanosecond), wantOK: true},
		{key: "otherOffset", want: base, wantOK: true},
		{key: "serialized", want: base.Add(640002 * time.Microsecond), wantOK: true},
		{key: "dateOnly"},
		{key: "text"},
		{key: "number"},
		{key: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := inv.MetaTime(tt.key)
			if !got.Equal(tt.want) || ok != tt.wantOK {
				t.Errorf("MetaTime(%q) = %v, %v; want %v, %v", tt.key, got, ok, tt.want, tt.wantOK)
			}
			if ok && got.Location() != time.UTC {
				t.Errorf("MetaTime(%q) location = %v, want UTC", tt.key, got.Location())
			}
		})
	}
}

func TestGoldenSysMetadata(t *testing.T) {
	inv := goldenInvocation(t, "timer.json", "SchedulerSweep")
	var sys struct{ MethodName, UtcNow, RandGuid string }
	if err := json.Unmarshal(inv.Metadata["sys"], &sys); err != nil {
		t.Fatal(err)
	}
	if sys.MethodName != "SchedulerSweep" {
		t.Errorf("got sys.MethodName %q, want SchedulerSweep", sys.MethodName)
	}
}
