package storetest

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// RunBlobs runs the blob conformance suite against the store open returns. Every subtest
// works under its own name prefix (unique to this run), so repeated runs against one
// Azurite container do not see each other's blobs.
func RunBlobs(t *testing.T, open func(t *testing.T) nimbus.Blobs) {
	subtests := []struct {
		name string
		fn   func(t *testing.T, bs nimbus.Blobs, prefix string)
	}{
		{"PutGet", testBlobPutGet},
		{"Replace", testBlobReplace},
		{"Missing", testBlobMissing},
		{"Delete", testBlobDelete},
		{"ListPaging", testBlobListPaging},
		{"ListPrefix", testBlobListPrefix},
		{"Large", testBlobLarge},
		{"FailedPutKeepsOld", testBlobFailedPut},
		{"ConcurrentPuts", testBlobConcurrentPuts},
		{"InvalidInputs", testBlobInvalid},
	}
	for _, st := range subtests {
		t.Run(st.name, func(t *testing.T) {
			st.fn(t, open(t), "conformance-"+runID+"/"+strings.ToLower(st.name)+"/")
		})
	}
}

func mustPut(t *testing.T, bs nimbus.Blobs, name string, data []byte, opts nimbus.PutOptions) nimbus.BlobInfo {
	t.Helper()
	info, err := bs.Put(t.Context(), name, bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	return info
}

// readBlob returns a blob's content and info, failing the test on any error.
func readBlob(t *testing.T, bs nimbus.Blobs, name string) ([]byte, nimbus.BlobInfo) {
	t.Helper()
	r, info, err := bs.Get(t.Context(), name)
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return data, info
}

func testBlobPutGet(t *testing.T, bs nimbus.Blobs, prefix string) {
	name := prefix + "a/session-1.json"
	md := map[string]string{"sha256": "abc123", "task": "t-1"}
	put := mustPut(t, bs, name, []byte(`{"hello":"world"}`), nimbus.PutOptions{ContentType: "application/json", Metadata: md})
	if put.ETag == "" || put.Size != 17 || put.Name != name {
		t.Errorf("put info: got %+v, want name, size 17 and an ETag", put)
	}
	data, info := readBlob(t, bs, name)
	if string(data) != `{"hello":"world"}` {
		t.Errorf("content: got %q", data)
	}
	if info.ContentType != "application/json" || info.Size != 17 || info.ETag != put.ETag {
		t.Errorf("get info: got %+v, want content type, size 17 and ETag %q", info, put.ETag)
	}
	if info.Metadata["sha256"] != "abc123" || info.Metadata["task"] != "t-1" {
		t.Errorf("metadata: got %v, want %v", info.Metadata, md)
	}
	if info.Modified.IsZero() {
		t.Error("modified time is zero")
	}
	empty := mustPut(t, bs, prefix+"empty", nil, nimbus.PutOptions{})
	if data, _ := readBlob(t, bs, prefix+"empty"); len(data) != 0 || empty.Size != 0 {
		t.Errorf("empty blob: got %d bytes, size %d", len(data), empty.Size)
	}
}

func testBlobReplace(t *testing.T, bs nimbus.Blobs, prefix string) {
	name := prefix + "x.json"
	first := mustPut(t, bs, name, []byte("first version, longer"), nimbus.PutOptions{Metadata: map[string]string{"v": "1"}})
	second := mustPut(t, bs, name, []byte("second"), nimbus.PutOptions{Metadata: map[string]string{"v": "2"}})
	if first.ETag == second.ETag {
		t.Error("replacing a blob kept its ETag")
	}
	data, info := readBlob(t, bs, name)
	if string(data) != "second" || info.Metadata["v"] != "2" || info.Size != 6 {
		t.Errorf("after replace: got %q %+v, want the second version whole", data, info)
	}
}

func testBlobMissing(t *testing.T, bs nimbus.Blobs, prefix string) {
	_, _, err := bs.Get(t.Context(), prefix+"nothing.json")
	wantKind(t, "get missing", err, nimbus.KindNotFound)
	mustPut(t, bs, prefix+"dir/child", []byte("c"), nimbus.PutOptions{})
	_, _, err = bs.Get(t.Context(), prefix+"dir")
	wantKind(t, "get a name that is only a prefix", err, nimbus.KindNotFound)
	wantKind(t, "delete missing", bs.Delete(t.Context(), prefix+"nothing.json"), nimbus.KindNotFound)
}

func testBlobDelete(t *testing.T, bs nimbus.Blobs, prefix string) {
	name := prefix + "gone.json"
	mustPut(t, bs, name, []byte("x"), nimbus.PutOptions{})
	if err := bs.Delete(t.Context(), name); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, _, err := bs.Get(t.Context(), name)
	wantKind(t, "get after delete", err, nimbus.KindNotFound)
	wantKind(t, "second delete", bs.Delete(t.Context(), name), nimbus.KindNotFound)
	page, err := bs.List(t.Context(), prefix, "", 10)
	if err != nil || len(page.Blobs) != 0 {
		t.Errorf("list after delete: got %v, %v, want nothing", page.Blobs, err)
	}
}

func testBlobListPaging(t *testing.T, bs nimbus.Blobs, prefix string) {
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("%st%d/s%d.json", prefix, i%3, i)
		mustPut(t, bs, name, []byte(name), nimbus.PutOptions{Metadata: map[string]string{"n": fmt.Sprint(i)}})
		want = append(want, name)
	}
	var got []string
	cursor, pages := "", 0
	for {
		page, err := bs.List(t.Context(), prefix, cursor, 3)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		pages++
		if len(page.Blobs) > 3 {
			t.Fatalf("page of %d blobs, limit 3", len(page.Blobs))
		}
		for _, b := range page.Blobs {
			got = append(got, b.Name)
			if b.Size != int64(len(b.Name)) || b.Modified.IsZero() || b.Metadata["n"] == "" {
				t.Errorf("listed %s: got %+v, want its size, time and metadata", b.Name, b)
			}
		}
		if page.Next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		cursor = page.Next
	}
	if len(got) != len(want) {
		t.Fatalf("listed %v, want %d blobs", got, len(want))
	}
	for i := 1; i < len(got); i++ {
		if got[i-1] >= got[i] {
			t.Errorf("not in ascending order: %q before %q", got[i-1], got[i])
		}
	}
	seen := map[string]bool{}
	for _, n := range got {
		seen[n] = true
	}
	for _, n := range want {
		if !seen[n] {
			t.Errorf("%s missing from the listing", n)
		}
	}
}

func testBlobListPrefix(t *testing.T, bs nimbus.Blobs, prefix string) {
	for _, n := range []string{"ten-a/1.json", "ten-a/2.json", "ten-ab/1.json", "ten-b/1.json"} {
		mustPut(t, bs, prefix+n, []byte(n), nimbus.PutOptions{})
	}
	cases := []struct {
		prefix string
		want   int
	}{{"ten-a/", 2}, {"ten-a", 3}, {"ten-b/", 1}, {"ten-c/", 0}, {"ten-a/1", 1}}
	for _, c := range cases {
		page, err := bs.List(t.Context(), prefix+c.prefix, "", 100)
		if err != nil {
			t.Fatalf("list %s: %v", c.prefix, err)
		}
		if len(page.Blobs) != c.want || page.Next != "" {
			t.Errorf("list %q: got %d blobs (next %q), want %d", c.prefix, len(page.Blobs), page.Next, c.want)
		}
		for _, b := range page.Blobs {
			if !strings.HasPrefix(b.Name, prefix+c.prefix) {
				t.Errorf("list %q returned %q", c.prefix, b.Name)
			}
		}
	}
}

func testBlobLarge(t *testing.T, bs nimbus.Blobs, prefix string) {
	data := make([]byte, 10<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>13)
	}
	name := prefix + "large.bin"
	info := mustPut(t, bs, name, data, nimbus.PutOptions{ContentType: "application/octet-stream"})
	if info.Size != int64(len(data)) {
		t.Errorf("put size: got %d, want %d", info.Size, len(data))
	}
	got, _ := readBlob(t, bs, name)
	if !bytes.Equal(got, data) {
		t.Errorf("large blob: got %d bytes back, not the %d written", len(got), len(data))
	}
}

// failingReader yields some bytes, then fails: a client that goes away mid-upload.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, fmt.Errorf("client went away")
	}
	k := min(len(p), f.n)
	for i := range k {
		p[i] = 'z'
	}
	f.n -= k
	return k, nil
}

func testBlobFailedPut(t *testing.T, bs nimbus.Blobs, prefix string) {
	name := prefix + "kept.json"
	mustPut(t, bs, name, []byte("old"), nimbus.PutOptions{})
	if _, err := bs.Put(t.Context(), name, &failingReader{n: 3 << 20}, nimbus.PutOptions{}); err == nil {
		t.Fatal("put from a failing reader succeeded")
	}
	if data, _ := readBlob(t, bs, name); string(data) != "old" {
		t.Errorf("after a failed put: got %d bytes, want the old content", len(data))
	}
	if _, err := bs.Put(t.Context(), prefix+"new.json", &failingReader{n: 10}, nimbus.PutOptions{}); err == nil {
		t.Fatal("put of a new blob from a failing reader succeeded")
	}
	_, _, err := bs.Get(t.Context(), prefix+"new.json")
	wantKind(t, "get after a failed first put", err, nimbus.KindNotFound)
	page, err := bs.List(t.Context(), prefix, "", 10)
	if err != nil || len(page.Blobs) != 1 {
		t.Errorf("list after failed puts: got %d blobs (%v), want 1", len(page.Blobs), err)
	}
}

// testBlobConcurrentPuts races writers of one name, each writing a distinct uniform
// content, with readers: every read sees one writer's content whole.
func testBlobConcurrentPuts(t *testing.T, bs nimbus.Blobs, prefix string) {
	const writers, size = 4, 256 << 10
	name := prefix + "raced.bin"
	mustPut(t, bs, name, bytes.Repeat([]byte{'0'}, size), nimbus.PutOptions{})
	errs := make(chan error, writers*2)
	done := make(chan struct{})
	for w := range writers {
		go func() {
			_, err := bs.Put(t.Context(), name, bytes.NewReader(bytes.Repeat([]byte{byte('a' + w)}, size)), nimbus.PutOptions{})
			errs <- err
		}()
	}
	go func() {
		defer close(done)
		for range 20 {
			r, _, err := bs.Get(t.Context(), name)
			if err != nil {
				errs <- fmt.Errorf("get during puts: %w", err)
				return
			}
			data, err := io.ReadAll(r)
			r.Close()
			if err != nil {
				continue // Azure may fail a read whose blob was replaced meanwhile
			}
			if len(data) != size || bytes.Count(data, data[:1]) != size {
				errs <- fmt.Errorf("read a torn blob: %d bytes, first %q", len(data), data[:1])
				return
			}
		}
	}()
	for range writers {
		if err := <-errs; err != nil {
			t.Errorf("put: %v", err)
		}
	}
	<-done
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	data, _ := readBlob(t, bs, name)
	if len(data) != size || bytes.Count(data, data[:1]) != size || data[0] == '0' {
		t.Errorf("final blob: %d bytes starting %q, want one writer's content whole", len(data), data[:1])
	}
}

func testBlobInvalid(t *testing.T, bs nimbus.Blobs, prefix string) {
	for _, name := range []string{"", prefix + "a//b", prefix + "../x", prefix + "a/./b", prefix + "tab\tname", prefix + "back\\slash", prefix + ".tmp-x", prefix + strings.Repeat("s", 300)} {
		_, err := bs.Put(t.Context(), name, strings.NewReader("x"), nimbus.PutOptions{})
		wantKind(t, fmt.Sprintf("put %q", name), err, nimbus.KindInvalid)
		_, _, err = bs.Get(t.Context(), name)
		wantKind(t, fmt.Sprintf("get %q", name), err, nimbus.KindInvalid)
	}
	for _, md := range []map[string]string{{"Upper": "x"}, {"9lead": "x"}, {"dash-ed": "x"}, {"ok": "caf\u00e9"}, {"ok": strings.Repeat("v", 300)}} {
		_, err := bs.Put(t.Context(), prefix+"md", strings.NewReader("x"), nimbus.PutOptions{Metadata: md})
		wantKind(t, fmt.Sprintf("put with metadata %v", md), err, nimbus.KindInvalid)
	}
	_, err := bs.List(t.Context(), prefix, "", 0)
	wantKind(t, "list with limit 0", err, nimbus.KindInvalid)
	page, err := bs.List(t.Context(), prefix, "", 10)
	if err != nil || len(page.Blobs) != 0 {
		t.Errorf("invalid puts left %d blobs (%v)", len(page.Blobs), err)
	}
}
