package app

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func partsOf(t *testing.T, b bigRows, pk, rk string) int {
	t.Helper()
	n := 0
	if err := eachEntity(t.Context(), b.table, partsPartition(pk), partPrefix(rk), func(nimbus.Entity) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func filled(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	b[0] = '{' // a stored record, never the spill marker
	return b
}

// Values of any size round-trip through one row; replacing a large value leaves no parts of
// it behind; a lost ETag race leaves neither the value nor parts of it.
func TestBigRows(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	b := bigRows{table: f.tables.Table(nimbus.TableTasks)}
	const pk, rk = "tenant|ab", "task-1"

	var etag string
	var ref *spillRef
	for i, size := range []int{10, nimbus.MaxEntityData, nimbus.MaxEntityData + 1, 5*nimbus.MaxEntityData + 17, 100} {
		want := filled(size, byte(i))
		if err := b.put(ctx, pk, rk, want, etag, ref); err != nil {
			t.Fatalf("put %d bytes: %v", size, err)
		}
		got, tag, r, err := b.get(ctx, pk, rk)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("get after put of %d bytes: %d bytes, err %v", size, len(got), err)
		}
		wantParts := 0
		if size > nimbus.MaxEntityData {
			wantParts = (size + nimbus.MaxEntityData - 1) / nimbus.MaxEntityData
		}
		if n := partsOf(t, b, pk, rk); n != wantParts {
			t.Errorf("%d bytes: %d part rows stored, want %d (old parts must go)", size, n, wantParts)
		}
		etag, ref = tag, r
	}

	// A writer holding an old ETag loses, and leaves nothing of its large value behind.
	if err := b.put(ctx, pk, rk, filled(3*nimbus.MaxEntityData, 9), `"stale"`, nil); !errors.Is(err, nimbus.ErrConflict) {
		t.Fatalf("put at a stale ETag: got %v, want Conflict", err)
	}
	if n := partsOf(t, b, pk, rk); n != 0 {
		t.Errorf("a lost write left %d part rows", n)
	}
	if err := b.put(ctx, pk, rk, filled(2*nimbus.MaxEntityData, 3), "", nil); !errors.Is(err, nimbus.ErrConflict) {
		t.Fatalf("insert over an existing row: got %v, want Conflict", err)
	}

	// removeAll takes the row and every part ever written for it, referenced or not.
	if err := b.put(ctx, pk, rk, filled(2*nimbus.MaxEntityData, 4), etag, ref); err != nil {
		t.Fatal(err)
	}
	if err := b.writeParts(ctx, pk, rk, spillRef{ID: "orphan", Parts: 1, Size: 3}, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	if err := b.removeAll(ctx, pk, rk, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := b.get(ctx, pk, rk); !errors.Is(err, nimbus.ErrNotFound) {
		t.Errorf("get after removeAll: %v, want NotFound", err)
	}
	if n := partsOf(t, b, pk, rk); n != 0 {
		t.Errorf("removeAll left %d part rows", n)
	}
}

// Readers never see a mix of two large values while a writer replaces them.
func TestBigRowsReadersSeeWholeValues(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	b := bigRows{table: f.tables.Table(nimbus.TableTasks)}
	const pk, rk = "tenant|cd", "task-2"
	values := [][]byte{filled(2*nimbus.MaxEntityData+5, 1), filled(3*nimbus.MaxEntityData+9, 2)}
	if err := b.put(ctx, pk, rk, values[0], "", nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= 20; i++ {
			_, etag, ref, err := b.get(ctx, pk, rk)
			if err == nil {
				err = b.put(ctx, pk, rk, values[i%2], etag, ref)
			}
			if err != nil {
				t.Errorf("write %d: %v", i, err)
				break
			}
		}
		close(stop)
	}()
	for {
		select {
		case <-stop:
			wg.Wait()
			return
		default:
		}
		got, _, _, err := b.get(ctx, pk, rk)
		if err != nil && !errors.Is(err, nimbus.ErrUnavailable) {
			t.Fatalf("read during writes: %v", err)
		}
		if err == nil && !bytes.Equal(got, values[0]) && !bytes.Equal(got, values[1]) {
			t.Fatalf("read a value of %d bytes that is neither written value", len(got))
		}
	}
}

func TestBatchGroups(t *testing.T) {
	op := func(n int) nimbus.BatchOp {
		return nimbus.BatchOp{Kind: nimbus.BatchUpsert, RowKey: "k", Data: make([]byte, n)}
	}
	var many, large []nimbus.BatchOp
	for range 250 {
		many = append(many, op(1))
	}
	for range 9 {
		large = append(large, op(nimbus.MaxEntityData))
	}
	cases := []struct {
		name string
		ops  []nimbus.BatchOp
		want []int
	}{
		{"Empty", nil, nil},
		{"ByCount", many, []int{100, 100, 50}},
		{"BySize", large, []int{4, 4, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []int
			for _, g := range batchGroups(c.ops) {
				if err := nimbus.CheckBatch("pk", uniqueKeys(g)); err != nil {
					t.Errorf("group does not fit a batch: %v", err)
				}
				got = append(got, len(g))
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("group sizes: got %v, want %v", got, c.want)
			}
		})
	}
}

func uniqueKeys(ops []nimbus.BatchOp) []nimbus.BatchOp {
	out := make([]nimbus.BatchOp, len(ops))
	for i, op := range ops {
		op.RowKey = fmt.Sprint(i)
		out[i] = op
	}
	return out
}

// Stored JSON keeps <, > and & as they are, so they take one byte, not six.
func TestEncodeStoredKeepsHTMLCharacters(t *testing.T) {
	got, err := encodeStored(map[string]string{"v": "<a & b>"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"v":"<a & b>"}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// A contact with every field at its limit, in the characters that grow most as JSON, is
// stored and read back.
func TestContactAtAllLimits(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	admin := f.caller(f.demo.Users.TenantAdmin)
	w := func(n int) string { return strings.Repeat("<\u2028", n/2) }
	list := func(n, size int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = w(size)
		}
		return out
	}
	c := nimbus.Contact{
		ExternalID: strings.Repeat("x", nimbus.MaxContactExternalID), FirstName: w(nimbus.MaxContactFirstName), LastName: w(nimbus.MaxContactLastName),
		DisplayName: w(nimbus.MaxContactDisplayName), Initials: w(nimbus.MaxContactInitials), Company: w(nimbus.MaxContactCompany),
		Department: w(nimbus.MaxContactDepartment), JobTitle: w(nimbus.MaxContactJobTitle), UserPrincipalName: w(nimbus.MaxContactUPN),
		IMAddresses: list(nimbus.MaxContactAddressItems, nimbus.MaxContactAddressLength), EmailAddresses: list(nimbus.MaxContactAddressItems, nimbus.MaxContactAddressLength),
		BusinessPhones: list(nimbus.MaxContactAddressItems, nimbus.MaxContactPhoneLength), MobilePhones: list(nimbus.MaxContactAddressItems, nimbus.MaxContactPhoneLength),
		HomePhones: list(nimbus.MaxContactAddressItems, nimbus.MaxContactPhoneLength),
	}
	for range nimbus.MaxContactAddressItems {
		c.Addresses = append(c.Addresses, nimbus.ContactAddress{Street: w(nimbus.MaxContactStreet), City: w(nimbus.MaxContactCity), Country: w(nimbus.MaxContactCountry), State: w(nimbus.MaxContactState), PostalCode: w(nimbus.MaxContactPostalCode)})
	}
	for i := range nimbus.MaxContactCustomFields {
		c.CustomFields = append(c.CustomFields, nimbus.CustomField{Name: fmt.Sprintf("f%02d", i) + w(nimbus.MaxCustomFieldName-4), Value: w(nimbus.MaxCustomFieldValue)})
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("the test contact is not within the limits: %v", err)
	}
	if _, err := f.books.Add(ctx, admin, f.demo.AddressBooks[0].ID, c); err != nil {
		t.Fatalf("add: %v", err)
	}
	got, err := f.books.Get(ctx, admin, f.demo.AddressBooks[0].ID, []string{c.ExternalID})
	if err != nil || len(got) != 1 || got[0].CustomFields[19].Value != c.CustomFields[19].Value {
		t.Fatalf("get: %d contacts, err %v", len(got), err)
	}
}
