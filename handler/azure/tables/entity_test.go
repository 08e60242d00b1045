package tables

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func TestChunkingRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3*chunkSize + 7, 300 << 10, nimbus.MaxEntityData} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(i * 7)
			}
			body, err := marshalEntity("p", "r", data)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}

			var props map[string]json.RawMessage
			if err := json.Unmarshal(body, &props); err != nil {
				t.Fatalf("marshal produced invalid JSON: %v", err)
			}
			chunks := (n + chunkSize - 1) / chunkSize
			if got, want := len(props), 3+2*chunks; got != want {
				t.Errorf("got %d properties, want %d", got, want)
			}
			for i := range chunks {
				name := propChunk + strconv.Itoa(i)
				var chunk []byte
				if err := json.Unmarshal(props[name], &chunk); err != nil || len(chunk) == 0 || len(chunk) > 64<<10 {
					t.Errorf("%s: %d bytes, %v; want 1..64 KiB", name, len(chunk), err)
				}
				if got := string(props[name+"@odata.type"]); got != `"Edm.Binary"` {
					t.Errorf("%s@odata.type = %s, want \"Edm.Binary\"", name, got)
				}
			}

			se, err := unmarshalEntity(body)
			if err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			if se.PartitionKey != "p" || se.RowKey != "r" || !bytes.Equal(se.Data, data) {
				t.Fatalf("round trip: got keys %q/%q and %d bytes, want p/r and %d bytes", se.PartitionKey, se.RowKey, len(se.Data), n)
			}
		})
	}
}

func TestUnmarshalEntityReadsETag(t *testing.T) {
	body := `{"odata.etag":"W/\"datetime'2026-01-01T00%3A00%3A00Z'\"","PartitionKey":"p","RowKey":"r","N":1,"D0@odata.type":"Edm.Binary","D0":"aGk="}`
	se, err := unmarshalEntity([]byte(body))
	if err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if want := `W/"datetime'2026-01-01T00%3A00%3A00Z'"`; se.ETag != want || string(se.Data) != "hi" {
		t.Fatalf("got ETag %q data %q, want %q and \"hi\"", se.ETag, se.Data, want)
	}
}

func TestUnmarshalEntityRejectsForeignEntities(t *testing.T) {
	cases := map[string]string{
		"not JSON":         `{`,
		"no count":         `{"PartitionKey":"p","RowKey":"r"}`,
		"count too large":  `{"PartitionKey":"p","RowKey":"r","N":1000}`,
		"negative count":   `{"PartitionKey":"p","RowKey":"r","N":-1}`,
		"missing chunk":    `{"PartitionKey":"p","RowKey":"r","N":2,"D0":"aGk="}`,
		"chunk not base64": `{"PartitionKey":"p","RowKey":"r","N":1,"D0":"!!"}`,
		"no row key":       `{"PartitionKey":"p","N":0}`,
	}
	for name, body := range cases {
		if _, err := unmarshalEntity([]byte(body)); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
}
