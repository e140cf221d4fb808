package bookingapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// chunkLog describes the chunk requests the sandbox received, one string
// per request: "action number bytes status".
func chunkLog(env *sandboxEnv) []string {
	var out []string
	for _, r := range env.requestsTo(sandbox.EndpointChunks) {
		out = append(out, fmt.Sprintf("%s %d %d %d", r.Action, r.ChunkNumber, r.DecodedBytes, r.Status))
	}
	return out
}

// checkChunkLog fails the test unless the chunk requests are want.
func (e *sandboxEnv) checkChunkLog(t *testing.T, want []string) {
	t.Helper()
	if got := chunkLog(e); !slices.Equal(got, want) {
		t.Errorf("chunk requests = %q, want %q", got, want)
	}
}

// checkStored fails the test unless the sandbox holds content under id.
func (e *sandboxEnv) checkStored(t *testing.T, id string, content []byte) {
	t.Helper()
	if f, _ := e.sandbox.Attachment(testProperty, testConversation, id); !bytes.Equal(f.Content, content) {
		t.Errorf("the stored attachment %q: %s", id, bytesDiff(f.Content, content))
	}
}

// wantChunkLog is the chunkLog of a successful chunked upload of size bytes.
func wantChunkLog(size int) []string {
	var out []string
	for n := 0; n*MaxChunkBytes < size; n++ {
		action := "resume"
		switch {
		case n == 0:
			action = "start"
		case (n+1)*MaxChunkBytes >= size:
			action = "finish"
		}
		out = append(out, fmt.Sprintf("%s %d %d 200", action, n, min(MaxChunkBytes, size-n*MaxChunkBytes)))
	}
	return out
}

// tooLarge is a buffer past MaxFileBytes, shared by the tests that need one,
// since allocating it is slow under -race.
var tooLarge = sync.OnceValue(func() []byte { return make([]byte, MaxFileBytes+2) })

// TestUploaderRefusesBadData checks the errors an Uploader reports about the
// data it is given, and that nothing is sent that breaks them: no request at
// all for a small file, no finish for a chunked one.
func TestUploaderRefusesBadData(t *testing.T) {
	t.Parallel()
	type write struct {
		n       int   // bytes written
		wantErr error // nil: success
	}
	tests := []struct {
		name      string
		size      int64 // declared
		newErr    error // from NewUploader
		writes    []write
		closeErr  error
		wantChunk []string // chunkLog afterwards
	}{
		{name: "declared size above MaxFileBytes", size: MaxFileBytes + 1, newErr: ErrFileTooLarge},
		{name: "negative declared size", size: -1, newErr: ErrSizeMismatch},
		{name: "one write past MaxFileBytes", writes: []write{{MaxFileBytes + 1, ErrFileTooLarge}, {1, ErrFileTooLarge}}, closeErr: ErrFileTooLarge},
		{name: "the byte past MaxFileBytes", writes: []write{{MaxFileBytes, nil}, {1, ErrFileTooLarge}, {1, ErrFileTooLarge}}, closeErr: ErrFileTooLarge},
		{name: "more than declared", size: 100, writes: []write{{60, nil}, {41, ErrSizeMismatch}, {1, ErrSizeMismatch}}, closeErr: ErrSizeMismatch},
		{name: "more than declared at once", size: 100, writes: []write{{101, ErrSizeMismatch}}, closeErr: ErrSizeMismatch},
		{name: "fewer than declared", size: 100, writes: []write{{99, nil}}, closeErr: ErrSizeMismatch},
		{name: "fewer than declared, chunked", size: 2*MaxChunkBytes + 500, writes: []write{{2 * MaxChunkBytes, nil}}, closeErr: ErrSizeMismatch,
			wantChunk: []string{"start 0 1000000 200", "resume 1 1000000 200"}},
		{name: "more than declared, chunked", size: MaxChunkBytes + 500, writes: []write{{MaxChunkBytes + 400, nil}, {101, ErrSizeMismatch}}, closeErr: ErrSizeMismatch,
			wantChunk: []string{"start 0 1000000 200"}},
		{name: "empty, size unknown", closeErr: ErrEmptyFile},
		{name: "empty, size declared", size: 100, closeErr: ErrEmptyFile},
		{name: "empty writes", writes: []write{{0, nil}, {0, nil}}, closeErr: ErrEmptyFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			file := FileHeader{Name: "bad.png", Type: "image/png", Size: tt.size}
			u, err := env.client.NewUploader(context.Background(), testConv, file)
			if !errors.Is(err, tt.newErr) || (err == nil) != (tt.newErr == nil) {
				t.Fatalf("NewUploader(%+v) = %v, want %v", file, err, tt.newErr)
			}
			if err == nil {
				total := 0
				for _, w := range tt.writes {
					total += w.n
				}
				content := pngFile(max(total, 8))
				if total > MaxFileBytes {
					content = tooLarge() // never sent: any bytes do
				}
				off := 0
				for i, w := range tt.writes {
					n, err := u.Write(content[off : off+w.n])
					if !errors.Is(err, w.wantErr) || (err == nil) != (w.wantErr == nil) {
						t.Fatalf("Write #%d of %d bytes = %d, %v; want %v", i+1, w.n, n, err, w.wantErr)
					}
					if wantN := w.n; err != nil && n != 0 || err == nil && n != wantN {
						t.Errorf("Write #%d of %d bytes = %d, %v; want all bytes taken on success, none on failure", i+1, w.n, n, err)
					}
					off += w.n
				}
				a, err := u.Close()
				if !errors.Is(err, tt.closeErr) || err == nil {
					t.Errorf("Close() = %+v, %v; want %v", a, err, tt.closeErr)
				}
				env.checkErrorText(t, "Close()", err)
			}
			env.checkChunkLog(t, tt.wantChunk)
			if tt.wantChunk == nil {
				if reqs := env.requests(); len(reqs) != 0 {
					t.Errorf("the sandbox received %d requests (%+v), want none", len(reqs), reqs[0])
				}
			}
		})
	}
}

// TestUploaderErrorIsSticky makes Booking refuse a chunk during Write and
// checks that every later Write and Close return that error and send
// nothing more.
func TestUploaderErrorIsSticky(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     sandbox.Fault
		wantKind  Kind
		wantChunk []string
	}{
		{name: "resume refused", fault: sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "resume", Status: 400},
			wantKind: KindInvalidRequest, wantChunk: []string{"start 0 1000000 200", "resume 1 1000000 400"}},
		{name: "start forbidden", fault: sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "start", Status: 403},
			wantKind: KindPermissionDenied, wantChunk: []string{"start 0 1000000 403"}},
		{name: "start refused for a file above 1 MiB", fault: sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "start", Status: 400},
			wantKind: KindInvalidRequest, wantChunk: []string{"start 0 1000000 400"}},
	}
	const size = 2*MaxChunkBytes + 1
	content := pngFile(size)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			env.sandbox.InjectFault(tt.fault)
			u, err := env.client.NewUploader(context.Background(), testConv, FileHeader{Name: "s.png", Type: "image/png", Size: size})
			if err != nil {
				t.Fatal(err)
			}
			var first error
			for off := 0; off < size; off += 500_000 {
				n, err := u.Write(content[off:min(off+500_000, size)])
				switch {
				case first == nil && err != nil:
					first = err
				case first != nil && (err != first || n != 0):
					t.Errorf("Write after the error %q = %d, %v; want 0, the same error", first, n, err)
				}
			}
			e := asError(t, "the failing Write", first)
			env.checkErrorText(t, "the failing Write", first)
			if e.Kind != tt.wantKind {
				t.Errorf("the failing Write = %v (Kind %v), want Kind %v", first, e.Kind, tt.wantKind)
			}
			if a, err := u.Close(); err != first {
				t.Errorf("Close() after the error %q = %+v, %v; want the same error", first, a, err)
			}
			env.checkChunkLog(t, tt.wantChunk)
			if n := len(env.requestsTo(sandbox.EndpointUpload)); n != 0 {
				t.Errorf("single uploads = %d, want none", n)
			}
		})
	}
}

// TestUploaderCloseTwice checks that a second Close, and a Write after
// Close, fail without sending anything.
func TestUploaderCloseTwice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		content   []byte
		wantFirst error // nil: success
	}{
		{name: "after success", content: pngFile(100)},
		{name: "after failure", content: nil, wantFirst: ErrEmptyFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			u, err := env.client.NewUploader(context.Background(), testConv, FileHeader{Name: "t.png", Type: "image/png"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := u.Write(tt.content); err != nil {
				t.Fatalf("Write = %v", err)
			}
			first, err := u.Close()
			if !errors.Is(err, tt.wantFirst) || (err == nil) != (tt.wantFirst == nil) {
				t.Fatalf("first Close() = %+v, %v; want %v", first, err, tt.wantFirst)
			}
			before := len(env.requests())
			if a, err := u.Close(); err == nil || errors.Is(err, ErrEmptyFile) || a != (Attachment{}) {
				t.Errorf("second Close() = %+v, %v; want an error that says it is closed", a, err)
			}
			if n, err := u.Write([]byte{1}); err == nil || n != 0 {
				t.Errorf("Write after Close = %d, %v; want 0 and an error", n, err)
			}
			if n := len(env.requests()) - before; n != 0 {
				t.Errorf("second Close and Write sent %d requests, want none", n)
			}
		})
	}
}

// writeSplit writes content to u in pieces whose sizes split chooses.
func writeSplit(u *Uploader, content []byte, split func(remaining int) int) error {
	for len(content) > 0 {
		n := min(split(len(content)), len(content))
		m, err := u.Write(content[:n])
		if err != nil {
			return err
		}
		if m != n {
			return fmt.Errorf("Write of %d bytes took %d", n, m)
		}
		content = content[n:]
	}
	return nil
}

// TestUploaderChunks writes files one byte at a time, in random pieces and
// at once, with and without a declared size, and checks the chunks the
// sandbox receives: exactly MaxChunkBytes each but the last, numbered in
// order, start, resume…, finish.
func TestUploaderChunks(t *testing.T) {
	t.Parallel()
	oneByte := func(*rand.Rand, int) int { return 1 }
	randomSmall := func(r *rand.Rand, _ int) int { return 1 + r.IntN(5000) }
	randomLarge := func(r *rand.Rand, _ int) int { return 1 + r.IntN(3*MaxChunkBytes/2) }
	atOnce := func(_ *rand.Rand, n int) int { return n }
	tests := []struct {
		name    string
		size    int
		declare bool
		split   func(r *rand.Rand, remaining int) int
	}{
		{name: "one byte at a time, declared", size: MaxChunkBytes + 1, declare: true, split: oneByte},
		{name: "one byte at a time, undeclared", size: MaxChunkBytes + 1, split: oneByte},
		{name: "random small pieces, declared", size: MaxChunkBytes + 500_000, declare: true, split: randomSmall},
		{name: "random large pieces, declared", size: 2*MaxChunkBytes + 3, declare: true, split: randomLarge},
		{name: "random large pieces, undeclared", size: 2*MaxChunkBytes + 777, split: randomLarge},
		{name: "at once, exact chunks", size: 2 * MaxChunkBytes, declare: true, split: atOnce},
		{name: "at once, undeclared", size: MaxChunkBytes + 1, split: atOnce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			content := pngFile(tt.size)
			file := FileHeader{Name: "c.png", Type: "image/png"}
			if tt.declare {
				file.Size = int64(tt.size)
			}
			u, err := env.client.NewUploader(context.Background(), testConv, file)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(uint64(tt.size), 2))
			if err := writeSplit(u, content, func(n int) int { return tt.split(r, n) }); err != nil {
				t.Fatalf("writing %d bytes: %v", tt.size, err)
			}
			a, err := u.Close()
			if err != nil || !a.Chunked {
				t.Fatalf("Close() = %+v, %v; want a chunked attachment", a, err)
			}
			if got, want := chunkLog(env), wantChunkLog(tt.size); !slices.Equal(got, want) {
				t.Errorf("chunk requests = %q, want %q", got, want)
			}
			var ids []string
			for _, r := range env.requestsTo(sandbox.EndpointChunks)[1:] {
				ids = append(ids, r.UploadID)
			}
			if ids = slices.Compact(ids); len(ids) != 1 || ids[0] == "" {
				t.Errorf("resume and finish carried the upload_ids %q, want one, from start", ids)
			}
			f, ok := env.sandbox.Attachment(testProperty, testConversation, a.ID)
			if !ok || !bytes.Equal(f.Content, content) || f.Name != file.Name || f.Type != file.Type {
				t.Errorf("sandbox.Attachment(%q) = %q, %q, %s, %v; want the written file", a.ID, f.Name, f.Type, bytesDiff(f.Content, content), ok)
			}
		})
	}
}

// TestUploaderSingle checks that files of at most MaxChunkBytes go by one
// POST, sent only by Close.
func TestUploaderSingle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		size    int
		declare bool
	}{
		{name: "one byte over the signature", size: 9, declare: true},
		{name: "exactly MaxChunkBytes, declared", size: MaxChunkBytes, declare: true},
		{name: "exactly MaxChunkBytes, undeclared", size: MaxChunkBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			content := pngFile(tt.size)
			file := FileHeader{Name: "s.png", Type: "image/png"}
			if tt.declare {
				file.Size = int64(tt.size)
			}
			u, err := env.client.NewUploader(context.Background(), testConv, file)
			if err != nil {
				t.Fatal(err)
			}
			if err := writeSplit(u, content, func(int) int { return 300_000 }); err != nil {
				t.Fatal(err)
			}
			if n := len(env.requests()); n != 0 {
				t.Errorf("Write sent %d requests before Close, want none", n)
			}
			a, err := u.Close()
			if err != nil || a.Chunked || a.ID == "" || a.RUID == "" {
				t.Fatalf("Close() = %+v, %v; want a single upload with id and ruid", a, err)
			}
			ups := env.requestsTo(sandbox.EndpointUpload)
			if len(ups) != 1 || ups[0].DecodedBytes != tt.size || ups[0].FileSize != int64(tt.size) || ups[0].RUID != a.RUID {
				t.Errorf("upload requests = %+v, want one of %d bytes with ruid %q", ups, tt.size, a.RUID)
			}
			if got := chunkLog(env); len(got) != 0 {
				t.Errorf("chunk requests = %q, want none", got)
			}
		})
	}
}

// TestUploaderSendsChunksEarly checks that with a declared size every
// complete chunk but the last goes during Write, and finish only in Close;
// without one, nothing goes before Close.
func TestUploaderSendsChunksEarly(t *testing.T) {
	t.Parallel()
	const size = 2*MaxChunkBytes + 500
	content := pngFile(size)
	tests := []struct {
		name    string
		declare bool
		// wantActions after writing the first 1,000,000, 2,000,000 and
		// all bytes, then after Close.
		want [4]string
	}{
		{name: "declared", declare: true, want: [4]string{"start", "start,resume", "start,resume", "start,resume,finish"}},
		{name: "undeclared", want: [4]string{"", "", "", "start,resume,finish"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			file := FileHeader{Name: "e.png", Type: "image/png"}
			if tt.declare {
				file.Size = size
			}
			u, err := env.client.NewUploader(context.Background(), testConv, file)
			if err != nil {
				t.Fatal(err)
			}
			actions := func() string {
				var a []string
				for _, r := range env.requestsTo(sandbox.EndpointChunks) {
					a = append(a, r.Action)
				}
				return strings.Join(a, ",")
			}
			for i, end := range []int{MaxChunkBytes, 2 * MaxChunkBytes, size} {
				start := []int{0, MaxChunkBytes, 2 * MaxChunkBytes}[i]
				if _, err := u.Write(content[start:end]); err != nil {
					t.Fatalf("Write up to byte %d = %v", end, err)
				}
				if got := actions(); got != tt.want[i] {
					t.Errorf("after writing %d bytes the chunks sent are %q, want %q", end, got, tt.want[i])
				}
			}
			if _, err := u.Close(); err != nil {
				t.Fatalf("Close() = %v", err)
			}
			if got := actions(); got != tt.want[3] {
				t.Errorf("after Close the chunks sent are %q, want %q", got, tt.want[3])
			}
		})
	}
}

// TestUploaderCancelled cancels ctx before Close: Close returns ctx's error
// and no finish, nor single upload, is sent.
func TestUploaderCancelled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		size      int
		declare   bool
		written   int      // bytes written before the cancel
		wantChunk []string // chunk actions sent in all
	}{
		{name: "small file", size: 100, declare: true, written: 100},
		{name: "chunked, undeclared", size: MaxChunkBytes + 1, written: MaxChunkBytes + 1},
		{name: "chunked, declared, all written", size: MaxChunkBytes + 1, declare: true, written: MaxChunkBytes + 1,
			wantChunk: []string{"start 0 1000000 200"}},
		{name: "chunked, declared, cancelled between writes", size: 2*MaxChunkBytes + 1, declare: true, written: MaxChunkBytes + 10,
			wantChunk: []string{"start 0 1000000 200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			env.seed(t, pngFile(10)) // so that the token is cached
			content := pngFile(tt.size)
			file := FileHeader{Name: "x.png", Type: "image/png"}
			if tt.declare {
				file.Size = int64(tt.size)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			u, err := env.client.NewUploader(ctx, testConv, file)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := u.Write(content[:tt.written]); err != nil {
				t.Fatalf("Write before the cancel = %v", err)
			}
			cancel()
			if tt.written < tt.size {
				if n, err := u.Write(content[tt.written:]); !errors.Is(err, context.Canceled) {
					t.Errorf("Write after the cancel = %d, %v; want context.Canceled", n, err)
				}
			}
			a, err := u.Close()
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Close() after the cancel = %+v, %v; want context.Canceled", a, err)
			}
			env.checkChunkLog(t, tt.wantChunk)
			if n := len(env.requestsTo(sandbox.EndpointUpload)); n != 1 {
				t.Errorf("single uploads = %d, want only the seed's", n)
			}
		})
	}
}

// TestUploaderRestartsAfterFailedChunk makes a chunk fail in a way worth
// retrying and checks that the upload starts again from start with the
// bytes it holds.
func TestUploaderRestartsAfterFailedChunk(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		size      int
		fault     sandbox.Fault
		wantChunk []string
	}{
		{name: "503 on resume", size: 2*MaxChunkBytes + 1, fault: sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "resume", Status: 503},
			wantChunk: []string{"start 0 1000000 200", "resume 1 1000000 503", "start 0 1000000 200", "resume 1 1000000 200", "finish 2 1 200"}},
		{name: "429 on finish", size: MaxChunkBytes + 1, fault: sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "finish", Status: 429},
			wantChunk: []string{"start 0 1000000 200", "finish 1 1 429", "start 0 1000000 200", "finish 1 1 200"}},
		{name: "dropped finish", size: MaxChunkBytes + 1, fault: sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "finish", Drop: true},
			wantChunk: []string{"start 0 1000000 200", "finish 1 1 0", "start 0 1000000 200", "finish 1 1 200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			env.sandbox.InjectFault(tt.fault)
			content := pngFile(tt.size)
			a, err := upload(context.Background(), env.client, testConv, FileHeader{Name: "r.png", Type: "image/png", Size: int64(tt.size)}, content)
			if err != nil {
				t.Fatalf("upload with the fault %+v = %v, want success", tt.fault, err)
			}
			env.checkChunkLog(t, tt.wantChunk)
			env.checkStored(t, a.ID, content)
		})
	}
}

// TestUploaderBinaryMegabyteFallback runs against a sandbox that counts 1MB
// as 1,048,576 bytes: a file above MaxChunkBytes but within that refuses the
// chunked start with 400, and goes by single upload instead.
func TestUploaderBinaryMegabyteFallback(t *testing.T) {
	t.Parallel()
	const size = MaxChunkBytes + 500
	tests := []struct {
		name    string
		declare bool
	}{
		{name: "declared size", declare: true},
		{name: "undeclared size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{MegabyteBytes: BinaryMegabyteBytes}, nil)
			content := pngFile(size)
			file := FileHeader{Name: "m.png", Type: "image/png"}
			if tt.declare {
				file.Size = size
			}
			a, err := upload(context.Background(), env.client, testConv, file, content)
			if err != nil || a.Chunked {
				t.Fatalf("upload of %d bytes to a binary-MB sandbox = %+v, %v; want a single upload", size, a, err)
			}
			if got, want := chunkLog(env), []string{"start 0 1000000 400"}; !slices.Equal(got, want) {
				t.Errorf("chunk requests = %q, want %q", got, want)
			}
			if ups := env.requestsTo(sandbox.EndpointUpload); len(ups) != 1 || ups[0].DecodedBytes != size || ups[0].Status != 200 {
				t.Errorf("upload requests = %+v, want one of %d bytes answered 200", ups, size)
			}
			env.checkStored(t, a.ID, content)
		})
	}
}
