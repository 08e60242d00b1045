package tables

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Stored entity layout. Azure caps a binary property at 64 KiB and an entity at 1 MiB, so
// Data (up to nimbus.MaxEntityData) is split across binary properties D0, D1, … of at most
// chunkSize bytes, and N holds their number. Replace semantics (never merge) guarantee that
// no chunk of a longer earlier value survives a shorter write.
const (
	chunkSize = 60 << 10 // below the 64 KiB property limit, with room to spare
	propCount = "N"
	propChunk = "D"
	// maxChunks bounds N when reading, against entities not written by this package.
	maxChunks = 64
)

// marshalEntity renders an entity as the JSON body the SDK sends. Keys are already encoded.
func marshalEntity(partitionKey, rowKey string, data []byte) ([]byte, error) {
	n := (len(data) + chunkSize - 1) / chunkSize
	m := make(map[string]any, 3+2*n)
	m["PartitionKey"] = partitionKey
	m["RowKey"] = rowKey
	m[propCount] = n
	for i := range n {
		name := propChunk + strconv.Itoa(i)
		m[name] = data[i*chunkSize : min((i+1)*chunkSize, len(data))] // []byte marshals as base64
		m[name+"@odata.type"] = "Edm.Binary"
	}
	return json.Marshal(m)
}

// keysOnly renders the body of a batch delete, which names the entity only.
func keysOnly(partitionKey, rowKey string) ([]byte, error) {
	return json.Marshal(map[string]string{"PartitionKey": partitionKey, "RowKey": rowKey})
}

// storedEntity is an entity as the service returns it, keys still encoded.
type storedEntity struct {
	PartitionKey string
	RowKey       string
	Data         []byte
	ETag         string // from odata.etag, present in listings
}

// unmarshalEntity parses the JSON of a returned entity and reassembles Data.
func unmarshalEntity(body []byte) (storedEntity, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return storedEntity{}, fmt.Errorf("decode entity: %w", err)
	}
	var e storedEntity
	if err := jsonField(m, "PartitionKey", &e.PartitionKey); err != nil {
		return storedEntity{}, err
	}
	if err := jsonField(m, "RowKey", &e.RowKey); err != nil {
		return storedEntity{}, err
	}
	if _, ok := m["odata.etag"]; ok {
		if err := jsonField(m, "odata.etag", &e.ETag); err != nil {
			return storedEntity{}, err
		}
	}
	var n int
	if err := jsonField(m, propCount, &n); err != nil {
		return storedEntity{}, err
	}
	if n < 0 || n > maxChunks {
		return storedEntity{}, fmt.Errorf("decode entity: %s = %d is out of range", propCount, n)
	}
	for i := range n {
		var chunk []byte
		if err := jsonField(m, propChunk+strconv.Itoa(i), &chunk); err != nil {
			return storedEntity{}, err
		}
		e.Data = append(e.Data, chunk...)
	}
	return e, nil
}

var errMissingProperty = errors.New("missing property")

func jsonField(m map[string]json.RawMessage, name string, v any) error {
	raw, ok := m[name]
	if !ok {
		return fmt.Errorf("decode entity: %s: %w", name, errMissingProperty)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode entity: %s: %w", name, err)
	}
	return nil
}
