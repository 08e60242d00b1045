package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// bigRows stores values of any size under one row of a Table, for records whose field
// limits allow more than nimbus.MaxEntityData (a task with fifty parameters of 5,120
// characters each). A value that fits is stored in its row as it is. A larger one is cut into
// parts of MaxEntityData bytes, written as rows of a parts partition beside the row's own,
// under an id fresh for each write; the row itself then holds only a reference
// (spillMarker, then the JSON of a spillRef) and keeps its ETag semantics.
//
// Parts are written before the row that refers to them and removed after it no longer does,
// so a reader that follows the row's reference finds every part, unless a writer replaced
// the value in between, which the reader notices (a part is missing) and reads again. A crash
// between those steps leaves parts that no row refers to; removing the row (removeAll) removes
// them too.
type bigRows struct {
	table nimbus.Table
}

// spillMarker starts the data of a row that refers to parts. Stored records are JSON, which
// never starts with a NUL byte.
const spillMarker = 0x00

// spillRef is what a row holding a large value stores: which write its parts belong to, how
// many there are and their total size.
type spillRef struct {
	ID    string `json:"id"`
	Parts int    `json:"parts"`
	Size  int    `json:"size"`
}

// maxSpillReads bounds how often get follows a reference whose parts a concurrent writer
// replaced meanwhile.
const maxSpillReads = 5

// partsPartition names the partition of the parts of the rows of pk.
func partsPartition(pk string) string {
	const suffix = "|parts"
	if len(pk)+len(suffix) <= nimbus.MaxKeyLength {
		return pk + suffix
	}
	sum := sha256.Sum256([]byte(pk))
	return "parts|" + hex.EncodeToString(sum[:16])
}

// partPrefix is the row-key prefix of every part of row rk, whatever write it belongs to.
func partPrefix(rk string) string {
	sum := sha256.Sum256([]byte(rk))
	return hex.EncodeToString(sum[:16]) + "|"
}

func partKey(rk, id string, i int) string {
	return fmt.Sprintf("%s%s|%05d", partPrefix(rk), id, i)
}

// get returns the value of the row, its ETag, and the reference to its parts (nil when the
// value is stored in the row). KindNotFound when the row does not exist.
func (b bigRows) get(ctx context.Context, pk, rk string) ([]byte, string, *spillRef, error) {
	for range maxSpillReads {
		e, err := b.table.Get(ctx, pk, rk)
		if err != nil {
			return nil, "", nil, err
		}
		if len(e.Data) == 0 || e.Data[0] != spillMarker {
			return e.Data, e.ETag, nil, nil
		}
		var ref spillRef
		if err := json.Unmarshal(e.Data[1:], &ref); err != nil {
			return nil, "", nil, fmt.Errorf("decode reference of row %q: %w", rk, err)
		}
		data, ok, err := b.readParts(ctx, pk, rk, ref)
		if err != nil {
			return nil, "", nil, err
		}
		if ok {
			return data, e.ETag, &ref, nil
		}
		// A writer replaced the value between the two reads: read the row again.
	}
	return nil, "", nil, &nimbus.Error{Kind: nimbus.KindUnavailable, Message: "The record is being changed by many writers at once; try again.", RetryAfter: time.Second}
}

// readParts reassembles the parts of one write; false when some are missing.
func (b bigRows) readParts(ctx context.Context, pk, rk string, ref spillRef) ([]byte, bool, error) {
	parts := make([][]byte, ref.Parts)
	prefix := partPrefix(rk) + ref.ID + "|"
	err := eachEntity(ctx, b.table, partsPartition(pk), prefix, func(e nimbus.Entity) error {
		i, err := strconv.Atoi(strings.TrimPrefix(e.RowKey, prefix))
		if err != nil || i < 0 || i >= ref.Parts {
			return fmt.Errorf("part row %q of row %q is not one of its %d parts", e.RowKey, rk, ref.Parts)
		}
		parts[i] = e.Data
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("read parts of row %q: %w", rk, err)
	}
	data := make([]byte, 0, ref.Size)
	for _, p := range parts {
		if p == nil {
			return nil, false, nil
		}
		data = append(data, p...)
	}
	return data, len(data) == ref.Size, nil
}

// put stores data as the row's value: an insert when etag is empty (KindConflict when the row
// exists), else a replace of the version at etag (KindConflict when it changed). old is the
// reference the replaced version held, if any; its parts are removed once the row no longer
// refers to them.
func (b bigRows) put(ctx context.Context, pk, rk string, data []byte, etag string, old *spillRef) error {
	head := data
	var ref *spillRef
	if len(data) > nimbus.MaxEntityData {
		ref = &spillRef{ID: strings.ReplaceAll(uuid.NewString(), "-", ""), Parts: (len(data) + nimbus.MaxEntityData - 1) / nimbus.MaxEntityData, Size: len(data)}
		if err := b.writeParts(ctx, pk, rk, *ref, data); err != nil {
			b.removeParts(ctx, pk, rk, ref.ID)
			return err
		}
		encoded, _ := json.Marshal(ref) // three plain fields always marshal
		head = append([]byte{spillMarker}, encoded...)
	}
	e := nimbus.Entity{PartitionKey: pk, RowKey: rk, Data: head, ETag: etag}
	var err error
	if etag == "" {
		_, err = b.table.Insert(ctx, e)
	} else {
		_, err = b.table.Update(ctx, e)
	}
	if err != nil {
		if ref != nil {
			b.removeParts(ctx, pk, rk, ref.ID)
		}
		return err
	}
	if old != nil {
		b.removeParts(ctx, pk, rk, old.ID)
	}
	return nil
}

func (b bigRows) writeParts(ctx context.Context, pk, rk string, ref spillRef, data []byte) error {
	ops := make([]nimbus.BatchOp, 0, ref.Parts)
	for i := range ref.Parts {
		chunk := data[i*nimbus.MaxEntityData : min((i+1)*nimbus.MaxEntityData, len(data))]
		ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchUpsert, RowKey: partKey(rk, ref.ID, i), Data: chunk})
	}
	for _, group := range batchGroups(ops) {
		if err := b.table.Batch(ctx, partsPartition(pk), group); err != nil {
			return fmt.Errorf("write parts of row %q: %w", rk, err)
		}
	}
	return nil
}

// removeParts deletes the parts of one write of the row, or with id "" of every write. It is
// best effort: parts left behind are unreferenced and go with the row (removeAll).
func (b bigRows) removeParts(ctx context.Context, pk, rk, id string) {
	_ = b.removePartsErr(ctx, pk, rk, id)
}

func (b bigRows) removePartsErr(ctx context.Context, pk, rk, id string) error {
	prefix := partPrefix(rk)
	if id != "" {
		prefix += id + "|"
	}
	var ops []nimbus.BatchOp
	err := eachEntity(ctx, b.table, partsPartition(pk), prefix, func(e nimbus.Entity) error {
		ops = append(ops, nimbus.BatchOp{Kind: nimbus.BatchDelete, RowKey: e.RowKey})
		return nil
	})
	if err != nil {
		return fmt.Errorf("list parts of row %q: %w", rk, err)
	}
	for _, group := range batchGroups(ops) {
		if err := b.table.Batch(ctx, partsPartition(pk), group); err != nil && !errors.Is(err, nimbus.ErrNotFound) {
			return fmt.Errorf("remove parts of row %q: %w", rk, err)
		}
	}
	return nil
}

// removeAll deletes the row (only at etag, when given) and then every part ever written for
// it. KindNotFound when the row is gone, KindConflict when it changed since etag.
func (b bigRows) removeAll(ctx context.Context, pk, rk, etag string) error {
	if err := b.table.Delete(ctx, pk, rk, etag); err != nil {
		return err
	}
	return b.removePartsErr(ctx, pk, rk, "")
}
