package embedded

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// FileBlobs is the embedded blob store: one file per blob under a root directory, the blob
// name being the file's path below it. Each file holds one header line (JSON: content type,
// metadata, time, ETag) and then the content.
//
// A Put writes a temporary file beside the target (".tmp-…", a name no blob may have),
// fsyncs it, renames it over the target and fsyncs the directory: rename is atomic, so
// after a crash at any point the blob is the old file or the new one, never a torn one.
// Temporary files a crash left behind are removed by OpenBlobs.
//
// Only one process may use a root at a time; main opens it after taking the bbolt file's
// lock in the same data directory.
type FileBlobs struct {
	root string
}

var _ nimbus.Blobs = (*FileBlobs)(nil)

// blobHeader is the first line of a blob file.
type blobHeader struct {
	ContentType string            `json:"contentType,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Modified    time.Time         `json:"modified"`
	ETag        string            `json:"etag"`
}

// OpenBlobs opens (creating it) the blob store rooted at dir and removes the temporary
// files of Puts that a crash interrupted.
func OpenBlobs(dir string) (*FileBlobs, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), ".tmp-") {
			return os.Remove(path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open blob store: remove interrupted writes: %w", err)
	}
	return &FileBlobs{root: dir}, nil
}

func (b *FileBlobs) path(name string) string {
	return filepath.Join(b.root, filepath.FromSlash(name))
}

// Put implements nimbus.Blobs.
func (b *FileBlobs) Put(ctx context.Context, name string, r io.Reader, opts nimbus.PutOptions) (nimbus.BlobInfo, error) {
	if err := nimbus.CheckBlobName(name); err != nil {
		return nimbus.BlobInfo{}, err
	}
	if err := nimbus.CheckBlobMetadata(opts.Metadata); err != nil {
		return nimbus.BlobInfo{}, err
	}
	target := b.path(name)
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nimbus.BlobInfo{}, fileError("put blob "+name, err)
	}
	var tag [12]byte
	_, _ = rand.Read(tag[:])
	h := blobHeader{ContentType: opts.ContentType, Metadata: opts.Metadata, Modified: time.Now().UTC(), ETag: hex.EncodeToString(tag[:])}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return nimbus.BlobInfo{}, fileError("put blob "+name, err)
	}
	size, err := writeBlobFile(ctx, tmp, h, r)
	if err == nil {
		err = os.Rename(tmp.Name(), target)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return nimbus.BlobInfo{}, fileError("put blob "+name, err)
	}
	if err := syncDir(dir); err != nil {
		return nimbus.BlobInfo{}, fileError("put blob "+name, err)
	}
	return nimbus.BlobInfo{Name: name, Size: size, ContentType: h.ContentType, Modified: h.Modified, ETag: h.ETag, Metadata: h.Metadata}, nil
}

// writeBlobFile writes the header and the content to f, fsyncs and closes it. It returns
// the content's size.
func writeBlobFile(ctx context.Context, f *os.File, h blobHeader, r io.Reader) (int64, error) {
	size, err := func() (int64, error) {
		line, err := json.Marshal(h)
		if err != nil {
			return 0, err
		}
		w := bufio.NewWriterSize(f, 256<<10)
		if _, err := w.Write(append(line, '\n')); err != nil {
			return 0, err
		}
		n, err := io.Copy(w, ctxReader{ctx: ctx, r: r})
		if err != nil {
			return 0, err
		}
		if err := w.Flush(); err != nil {
			return 0, err
		}
		return n, f.Sync()
	}()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return size, err
}

// ctxReader stops a copy once ctx is done, so an abandoned request stops writing.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Get implements nimbus.Blobs.
func (b *FileBlobs) Get(ctx context.Context, name string) (io.ReadCloser, nimbus.BlobInfo, error) {
	if err := nimbus.CheckBlobName(name); err != nil {
		return nil, nimbus.BlobInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nimbus.BlobInfo{}, fileError("get blob "+name, err)
	}
	f, err := os.Open(b.path(name))
	if err != nil {
		return nil, nimbus.BlobInfo{}, fileError("get blob "+name, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		_ = f.Close()
		return nil, nimbus.BlobInfo{}, nimbus.NotFound("Blob %q was not found.", name)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	info, err := readBlobHeader(br, f, name)
	if err != nil {
		_ = f.Close()
		return nil, nimbus.BlobInfo{}, err
	}
	return struct {
		io.Reader
		io.Closer
	}{br, f}, info, nil
}

// readBlobHeader reads the header line of the open blob file f through br.
func readBlobHeader(br *bufio.Reader, f *os.File, name string) (nimbus.BlobInfo, error) {
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nimbus.BlobInfo{}, fmt.Errorf("read blob %s: header: %w", name, err)
	}
	var h blobHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return nimbus.BlobInfo{}, fmt.Errorf("read blob %s: header: %w", name, err)
	}
	st, err := f.Stat()
	if err != nil {
		return nimbus.BlobInfo{}, fileError("read blob "+name, err)
	}
	return nimbus.BlobInfo{Name: name, Size: st.Size() - int64(len(line)), ContentType: h.ContentType, Modified: h.Modified, ETag: h.ETag, Metadata: h.Metadata}, nil
}

// Delete implements nimbus.Blobs.
func (b *FileBlobs) Delete(ctx context.Context, name string) error {
	if err := nimbus.CheckBlobName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fileError("delete blob "+name, err)
	}
	path := b.path(name)
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nimbus.NotFound("Blob %q was not found.", name)
	}
	if err := os.Remove(path); err != nil {
		return fileError("delete blob "+name, err)
	}
	return fileError("delete blob "+name, syncDir(filepath.Dir(path)))
}

// fileError translates a file system error into the nimbus vocabulary: a missing file is
// KindNotFound, a full disk or a canceled context KindUnavailable.
func fileError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return &nimbus.Error{Kind: nimbus.KindNotFound, Message: "The blob was not found.", Err: fmt.Errorf("%s: %w", op, err)}
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &nimbus.Error{Kind: nimbus.KindUnavailable, Err: fmt.Errorf("%s: %w", op, err)}
	}
	return fmt.Errorf("%s: %w", op, err)
}
