package bookingapi

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// toSettings are both readings of download's to.
var toSettings = []struct {
	name string
	opts sandbox.Options
}{
	{name: "exclusive to", opts: sandbox.Options{InclusiveTo: false}},
	{name: "inclusive to", opts: sandbox.Options{InclusiveTo: true}},
}

// readAllWith reads r to the end with Read calls of bufSize bytes.
func readAllWith(r io.Reader, bufSize int) ([]byte, error) {
	var out []byte
	buf := make([]byte, bufSize)
	for {
		n, err := r.Read(buf)
		if n > bufSize {
			return out, fmt.Errorf("Read of a %d-byte buffer returned %d", bufSize, n)
		}
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// checkRanges checks the download GETs the sandbox received since request
// number first, for a range of length bytes from offset of a file of size
// bytes: each asks for at least one and at most MaxRangeBytes bytes whichever
// way to is read, each starts where the bytes taken from the one before end
// (to-from of them: an inclusive to's extra byte is dropped), and together
// they cover the range. GETs in flight together may arrive in any order.
func checkRanges(t *testing.T, env *sandboxEnv, first int, size, offset, length int64) {
	t.Helper()
	gets := env.requestsTo(sandbox.EndpointDownload)[first:]
	from := func(r sandbox.Request) int64 {
		n, err := strconv.ParseInt(r.Query.Get("from"), 10, 64)
		if err != nil {
			return -1
		}
		return n
	}
	slices.SortFunc(gets, func(a, b sandbox.Request) int { return cmp.Compare(from(a), from(b)) })
	pos, end := offset, offset+length
	for i, r := range gets {
		if from(r) != pos {
			t.Errorf("download GET #%d has from=%q, want %d", i+1, r.Query.Get("from"), pos)
			return
		}
		took := size - pos // the bytes taken from this GET
		if r.Query.Has("to") {
			to, err := strconv.ParseInt(r.Query.Get("to"), 10, 64)
			if err != nil || to <= pos || to-pos+1 > MaxRangeBytes || to >= size {
				t.Errorf("download GET #%d has from=%d to=%q, want from < to ≤ from+%d-1 and to < %d", i+1, pos, r.Query.Get("to"), MaxRangeBytes, size)
				return
			}
			took = to - pos
		} else if took > MaxRangeBytes {
			t.Errorf("download GET #%d has from=%d and no to: %d bytes, want at most %d", i+1, pos, took, MaxRangeBytes)
		}
		pos += min(took, end-pos)
	}
	if pos != end {
		t.Errorf("the download GETs covered [%d, %d), want [%d, %d)", offset, pos, offset, end)
	}
}

// TestReaderSmallRanges reads ranges of a small file with small buffers, for
// both readings of to: exactly the range comes back, in one GET.
func TestReaderSmallRanges(t *testing.T) {
	t.Parallel()
	const size = 1000
	content := pngFile(size)
	ranges := []struct {
		name           string
		offset, length int64
	}{
		{"whole file", 0, size},
		{"first byte", 0, 1},
		{"last byte", size - 1, 1},
		{"middle", 10, 20},
		{"second half", size / 2, size / 2},
		{"all but the ends", 1, size - 2},
		{"empty at the start", 0, 0},
		{"empty at the end", size, 0},
	}
	for _, setting := range toSettings {
		t.Run(setting.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, setting.opts, nil)
			ref := env.seed(t, content)
			for _, rg := range ranges {
				for _, bufSize := range []int{1, 7, 4096} {
					t.Run(fmt.Sprintf("%s/buffer %d", rg.name, bufSize), func(t *testing.T) {
						before := len(env.requestsTo(sandbox.EndpointDownload))
						r := openReader(t, env.client, context.Background(), ref, size, rg.offset, rg.length)
						got, err := readAllWith(r, bufSize)
						call := fmt.Sprintf("Read of NewReader(ref, %d, %d, %d) with a %d-byte buffer", size, rg.offset, rg.length, bufSize)
						want := content[rg.offset : rg.offset+rg.length]
						if err != nil || !bytes.Equal(got, want) {
							t.Fatalf("%s = %v, %s", call, err, bytesDiff(got, want))
						}
						if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
							t.Errorf("Read after the end = %d, %v; want 0, io.EOF", n, err)
						}
						wantGETs := 1
						if rg.length == 0 {
							wantGETs = 0
						}
						if n := len(env.requestsTo(sandbox.EndpointDownload)) - before; n != wantGETs {
							t.Errorf("%s sent %d GETs, want %d", call, n, wantGETs)
						}
						checkRanges(t, env, before, size, rg.offset, rg.length)
					})
				}
			}
		})
	}
}

// TestReaderLargeRanges reads ranges of a file of several MaxRangeBytes with
// WriteTo and with Read, for both readings of to.
func TestReaderLargeRanges(t *testing.T) {
	t.Parallel()
	const size = MaxRangeBytes + 10
	content := pngFile(size)
	ranges := []struct {
		name           string
		offset, length int64
	}{
		{"whole file", 0, size},
		{"all but the ends", 1, size - 2},
		{"exactly MaxRangeBytes", 0, MaxRangeBytes},
		{"MaxRangeBytes plus one to the end", size - MaxRangeBytes - 1, MaxRangeBytes + 1},
		{"across a boundary", MaxRangeBytes - 1, 3},
	}
	for _, setting := range toSettings {
		t.Run(setting.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, setting.opts, nil)
			ref := env.seed(t, content)
			for _, rg := range ranges {
				t.Run(rg.name, func(t *testing.T) {
					want := content[rg.offset : rg.offset+rg.length]
					before := len(env.requestsTo(sandbox.EndpointDownload))

					var buf bytes.Buffer
					w := &countingWriter{w: &buf}
					n, err := openReader(t, env.client, context.Background(), ref, size, rg.offset, rg.length).WriteTo(w)
					call := fmt.Sprintf("WriteTo of NewReader(ref, %d, %d, %d)", size, rg.offset, rg.length)
					if err != nil || n != rg.length || !bytes.Equal(buf.Bytes(), want) {
						t.Fatalf("%s = %d, %v, %s; want %d bytes", call, n, err, bytesDiff(buf.Bytes(), want), rg.length)
					}
					gets := len(env.requestsTo(sandbox.EndpointDownload)) - before
					if w.writes != gets {
						t.Errorf("%s made %d writes for %d GETs, want one write per GET", call, w.writes, gets)
					}
					checkRanges(t, env, before, size, rg.offset, rg.length)

					if rg.length == size {
						got, err := readAllWith(openReader(t, env.client, context.Background(), ref, size, rg.offset, rg.length), 64<<10)
						if err != nil || !bytes.Equal(got, want) {
							t.Errorf("Read of NewReader(ref, %d, %d, %d) = %v, %s", size, rg.offset, rg.length, err, bytesDiff(got, want))
						}
					}
				})
			}
		})
	}
}

// countingWriter counts Write calls and can fail after failAfter bytes.
type countingWriter struct {
	w         io.Writer
	writes    int
	failAfter int // 0: never fail
	written   int
}

var errWriterFull = errors.New("writer full")

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	if c.failAfter > 0 && c.written+len(p) > c.failAfter {
		n, _ := c.w.Write(p[:c.failAfter-c.written])
		c.written += n
		return n, errWriterFull
	}
	n, err := c.w.Write(p)
	c.written += n
	return n, err
}

// TestReaderWriteToFailingWriter checks that WriteTo stops at the writer's
// error and counts the bytes it took.
func TestReaderWriteToFailingWriter(t *testing.T) {
	t.Parallel()
	env := newSandboxEnv(t, sandbox.Options{}, nil)
	content := pngFile(1000)
	ref := env.seed(t, content)
	var buf bytes.Buffer
	w := &countingWriter{w: &buf, failAfter: 300}
	n, err := openReader(t, env.client, context.Background(), ref, 1000, 0, 1000).WriteTo(w)
	if !errors.Is(err, errWriterFull) || n != 300 || !bytes.Equal(buf.Bytes(), content[:300]) {
		t.Errorf("WriteTo a writer that fails after 300 bytes = %d, %v; want 300, %v", n, err, errWriterFull)
	}
}

// TestReaderSizeDisagreement gives NewReader a size other than the file's,
// as if file_info said so, and checks that the Reader fails with DataLoss
// rather than return other bytes than asked. One range at a time, it never
// asks for a range that starts past the end of the file it has seen; with
// ranges in flight ahead, only those already on their way when the
// disagreement shows may.
func TestReaderSizeDisagreement(t *testing.T) {
	t.Parallel()
	const fileSize = 2_500_000
	content := pngFile(fileSize)
	tests := []struct {
		name string
		size int64 // as if file_info said so
	}{
		{name: "file larger than file_info said", size: fileSize - 100},
		{name: "file smaller than file_info said", size: fileSize + 100},
		{name: "small file larger than file_info said", size: 900},
		{name: "file smaller by a range", size: fileSize + MaxRangeBytes + 5},
	}
	for _, tt := range tests {
		for _, setting := range toSettings {
			for _, parallel := range []int{1, DefaultParallelRanges} {
				t.Run(fmt.Sprintf("%s/%s/%d in flight", tt.name, setting.name, parallel), func(t *testing.T) {
					t.Parallel()
					env := newSandboxEnv(t, setting.opts, nil)
					ref := env.seed(t, content)
					c := newTestClient(t, Config{BaseURL: env.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
						ParallelRanges: parallel})
					got, err := io.ReadAll(openReader(t, c, context.Background(), ref, tt.size, 0, tt.size))
					call := fmt.Sprintf("io.ReadAll(NewReader(ref, %d, 0, %d)) of a %d-byte file", tt.size, tt.size, fileSize)
					if e := asError(t, call, err); e.Kind != KindDataLoss {
						t.Errorf("%s = %v (Kind %v), want KindDataLoss", call, err, e.Kind)
					}
					env.checkErrorText(t, call, err)
					if int64(len(got)) >= tt.size {
						t.Errorf("%s returned %d bytes with the error, want fewer than %d", call, len(got), tt.size)
					}
					if !bytes.Equal(got, content[:len(got)]) {
						t.Errorf("%s returned bytes other than the file's: %s", call, bytesDiff(got, content[:len(got)]))
					}
					// A GET past the end is made only when every earlier
					// answer was exactly what was asked for (then nothing
					// could tell that the file ends there), or while the
					// answer that tells is still on its way.
					refused := 0
					for _, r := range env.requestsTo(sandbox.EndpointDownload) {
						if r.Status != http.StatusOK && r.Query.Get("from") != strconv.Itoa(fileSize) {
							refused++
						}
					}
					if refused > parallel-1 {
						t.Errorf("%s sent %d GETs past the end that Booking refused, want at most %d", call, refused, parallel-1)
					}
				})
			}
		}
	}
}

// TestReaderErrorIsSticky checks that after a failed GET every Read returns
// the same error without sending anything.
func TestReaderErrorIsSticky(t *testing.T) {
	t.Parallel()
	env := newSandboxEnv(t, sandbox.Options{}, nil)
	ref := env.seed(t, pngFile(100))
	env.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointDownload, Status: 404})
	r := openReader(t, env.client, context.Background(), ref, 100, 0, 100)
	_, first := r.Read(make([]byte, 10))
	if e := asError(t, "Read with a 404", first); e.Kind != KindNotFound {
		t.Fatalf("Read with a 404 = %v, want KindNotFound", first)
	}
	env.checkErrorText(t, "Read with a 404", first)
	for range 3 {
		if n, err := r.Read(make([]byte, 10)); n != 0 || err != first {
			t.Errorf("Read after %v = %d, %v; want 0 and the same error", first, n, err)
		}
	}
	if n, err := r.WriteTo(io.Discard); n != 0 || err != first {
		t.Errorf("WriteTo after %v = %d, %v; want 0 and the same error", first, n, err)
	}
	if n := len(env.requestsTo(sandbox.EndpointDownload)); n != 1 {
		t.Errorf("the Reader sent %d GETs, want 1", n)
	}
}

// TestNewReaderRefusesInvalidRanges checks that NewReader refuses ranges
// outside the attachment, and sends nothing.
func TestNewReaderRefusesInvalidRanges(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, Config{BaseURL: "http://127.0.0.1:1", ClientID: testClientID, ClientSecret: testSecret})
	ref := AttachmentRef{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: "a1"}
	tests := []struct {
		name                 string
		size, offset, length int64
	}{
		{name: "negative offset", size: 10, offset: -1, length: 1},
		{name: "negative length", size: 10, offset: 0, length: -1},
		{name: "past the end", size: 10, offset: 5, length: 6},
		{name: "offset past the end", size: 10, offset: 11, length: 0},
		{name: "longer than the file", size: 10, offset: 0, length: 11},
		{name: "negative size", size: -1, offset: 0, length: 0},
		{name: "offset plus length overflows", size: 10, offset: 1, length: math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := fmt.Sprintf("NewReader(ref, %d, %d, %d)", tt.size, tt.offset, tt.length)
			if r, err := c.NewReader(context.Background(), ref, tt.size, tt.offset, tt.length); err == nil || r != nil {
				t.Errorf("%s = %v, %v; want an error", call, r, err)
			}
		})
	}
	t.Run("valid empty range at the end", func(t *testing.T) {
		r := openReader(t, c, context.Background(), ref, 10, 10, 0)
		if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("Read of NewReader(ref, 10, 10, 0) = %d, %v; want 0, io.EOF without a request", n, err)
		}
	})
}
