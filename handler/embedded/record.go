package embedded

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// Keys inside a table bucket are len(partitionKey) as 2 bytes big-endian, the partition key,
// then the row key. The length prefix keeps partitions apart ("a"+"bx" and "ab"+"x" differ)
// and keeps each partition contiguous and ordered by row key bytes, so that List is one
// cursor scan. MaxKeyLength (512) fits the 2-byte prefix.
func entityKey(partitionKey, rowKey string) []byte {
	k := make([]byte, 2, 2+len(partitionKey)+len(rowKey))
	binary.BigEndian.PutUint16(k, uint16(len(partitionKey)))
	k = append(k, partitionKey...)
	return append(k, rowKey...)
}

// rowKeyOf returns the row key part of a key made by entityKey.
func rowKeyOf(key []byte) string {
	n := int(binary.BigEndian.Uint16(key))
	return string(key[2+n:])
}

// Values are a format byte, the entity's version as 8 bytes big-endian, then the data. The
// version comes from the table bucket's sequence, so it is unique within the table for its
// whole life: an ETag taken before a delete never matches a row inserted again later.
const (
	recordFormat = 1
	recordHeader = 1 + 8
)

func encodeRecord(version uint64, data []byte) []byte {
	v := make([]byte, recordHeader, recordHeader+len(data))
	v[0] = recordFormat
	binary.BigEndian.PutUint64(v[1:], version)
	return append(v, data...)
}

// decodeRecord copies the data out, since bbolt memory is only valid inside the transaction.
func decodeRecord(v []byte) (etag string, data []byte, err error) {
	if len(v) < recordHeader || v[0] != recordFormat {
		return "", nil, fmt.Errorf("malformed record of %d bytes", len(v))
	}
	return etagOf(binary.BigEndian.Uint64(v[1:])), append([]byte{}, v[recordHeader:]...), nil
}

// recordETag reads only the ETag, for condition checks.
func recordETag(v []byte) (string, error) {
	if len(v) < recordHeader || v[0] != recordFormat {
		return "", fmt.Errorf("malformed record of %d bytes", len(v))
	}
	return etagOf(binary.BigEndian.Uint64(v[1:])), nil
}

// etagOf renders a version in the quoted form of HTTP entity tags.
func etagOf(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }
