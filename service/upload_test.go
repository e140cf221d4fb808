package service_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// path names the way an upload reached Booking.
type path string

const (
	single        path = "single"         // one POST
	chunked       path = "chunked"        // start, resume..., finish
	fallback      path = "chunked→single" // start refused with 400, then one POST
	bookingRefuse path = "refused-by-Booking"
	localRefuse   path = "refused-locally"
)

func TestUploadSizeBoundaries(t *testing.T) {
	const decimal, binary = 1_000_000, 1 << 20
	tests := []struct {
		size int
		want map[int64]path // by the sandbox's megabyte
	}{
		{999_999, map[int64]path{decimal: single, binary: single}},
		{1_000_000, map[int64]path{decimal: single, binary: single}},
		{1_000_001, map[int64]path{decimal: chunked, binary: fallback}},
		{1_048_576, map[int64]path{decimal: chunked, binary: fallback}},
		{1_048_577, map[int64]path{decimal: chunked, binary: chunked}},
		{10_000_000, map[int64]path{decimal: chunked, binary: chunked}},
		{10_000_001, map[int64]path{decimal: bookingRefuse, binary: chunked}},
		{10_485_760, map[int64]path{decimal: bookingRefuse, binary: chunked}},
		{10_485_761, map[int64]path{decimal: localRefuse, binary: localRefuse}},
	}
	for _, mb := range []int64{decimal, binary} {
		for _, declared := range []bool{true, false} {
			for _, tt := range tests {
				name := fmt.Sprintf("%s/%s/%d",
					map[int64]string{decimal: "decimal-MB", binary: "binary-MB"}[mb],
					map[bool]string{true: "declared-size", false: "undeclared-size"}[declared],
					tt.size)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					e := newEnv(t, sandbox.Options{MegabyteBytes: mb})
					content := image("image/png", tt.size, uint64(tt.size))
					meta := metadata("boundary.png", tt.size)
					if !declared {
						meta.FileSize = 0
					}
					resp, err := e.upload(context.Background(), meta, content, evenSplit(1<<20))
					want := tt.want[mb]
					switch want {
					case localRefuse:
						wantCode(t, err, codes.InvalidArgument)
						if n := len(e.sandbox.Requests()); n != 0 {
							t.Errorf("%d requests reached Booking, want none", n)
						}
						return
					case bookingRefuse:
						wantCode(t, err, codes.InvalidArgument)
						if ruidOf(err) == "" {
							t.Errorf("error %v has no ruid detail", err)
						}
						if got := e.actions(); slices.Contains(got, "finish") {
							t.Errorf("actions %v include finish", got)
						}
						return
					}
					if err != nil {
						t.Fatalf("upload: %v", err)
					}
					if got := uploadPath(e); got != want {
						t.Errorf("went by %s, want %s (requests: %v)", got, want, e.actions())
					}
					for _, r := range e.requests(sandbox.EndpointUpload, sandbox.EndpointChunks) {
						if r.DecodedBytes > 1_000_000 && want != fallback {
							t.Errorf("a %s request carried %d bytes, want at most 1,000,000", r.Endpoint, r.DecodedBytes)
						}
					}
					if resp.GetInfo().GetFileSize() != int64(tt.size) || resp.GetInfo().GetFileType() != "image/png" {
						t.Errorf("response info = %v, want %d bytes of image/png", resp.GetInfo(), tt.size)
					}
					e.readBack(t, resp.GetAttachmentId(), content)
				})
			}
		}
	}
}

// uploadPath tells from the sandbox's log how the upload went.
func uploadPath(e *env) path {
	singles := len(e.requests(sandbox.EndpointUpload))
	actions := e.actions()
	switch {
	case singles == 1 && len(actions) == 0:
		return single
	case singles == 1 && len(actions) == 1 && actions[0] == "start":
		return fallback
	case singles == 0 && len(actions) > 1 && actions[len(actions)-1] == "finish":
		return chunked
	}
	return path("unexpected")
}

func TestUploadRandomSplitsGiveTheSameBytes(t *testing.T) {
	forEachSetting(t, func(t *testing.T, opts sandbox.Options) {
		e := newEnv(t, opts)
		for i, size := range []int{3, 70_001, 2_345_678} {
			content := image("image/jpeg", size, uint64(i))
			resp, err := e.upload(context.Background(), metadata("split.jpg", size), content, randomSplit(uint64(i)))
			if err != nil {
				t.Fatalf("upload of %d bytes: %v", size, err)
			}
			stored, ok := e.sandbox.Attachment(testProperty, testConversation, resp.GetAttachmentId())
			if !ok || !bytes.Equal(stored.Content, content) {
				t.Fatalf("Booking holds different bytes than the %d sent", size)
			}
			if sum := sha256.Sum256(content); resp.GetSha256() != hex.EncodeToString(sum[:]) {
				t.Errorf("response sha256 = %s, want the digest of the bytes sent", resp.GetSha256())
			}
			e.readBack(t, resp.GetAttachmentId(), content)
		}
	})
}

func TestUploadOneByteMessages(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	content := image("image/png", 5_000, 7)
	resp, err := e.upload(context.Background(), metadata("bytewise.png", 0), content, evenSplit(1))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	e.readBack(t, resp.GetAttachmentId(), content)
}

// A declared size lets chunks go to Booking while the client still streams;
// without one, nothing goes before the client closes its stream.
func TestUploadStreamsOnlyWithDeclaredSize(t *testing.T) {
	for _, declared := range []bool{true, false} {
		t.Run(fmt.Sprintf("declared=%v", declared), func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			const size = 3_500_000
			content := image("image/png", size, 3)
			meta := metadata("stream.png", size)
			if !declared {
				meta.FileSize = 0
			}
			stream, err := e.client.UploadAttachment(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			send := func(data []byte) {
				t.Helper()
				if err := stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Data{Data: data}}); err != nil {
					t.Fatalf("send: %v", err)
				}
			}
			if err := stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Metadata{Metadata: meta}}); err != nil {
				t.Fatal(err)
			}
			send(content[:2_100_000])
			if declared {
				waitFor(t, "start and resume while the client streams", func() bool {
					return slices.Equal(e.actions(), []string{"start", "resume"})
				})
			} else {
				// Give the service time it would need to send anything.
				time.Sleep(100 * time.Millisecond)
				if n := len(e.sandbox.Requests()); n != 0 {
					t.Fatalf("%d requests reached Booking before the stream closed", n)
				}
			}
			send(content[2_100_000:])
			resp, err := stream.CloseAndRecv()
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			if got, want := e.actions(), []string{"start", "resume", "resume", "finish"}; !slices.Equal(got, want) {
				t.Errorf("actions = %v, want %v", got, want)
			}
			for i, r := range e.requests(sandbox.EndpointChunks) {
				if r.ChunkNumber != i || r.FileSize != size {
					t.Errorf("chunk %d: number %d, file_size %d; want %d and %d", i, r.ChunkNumber, r.FileSize, i, size)
				}
			}
			e.readBack(t, resp.GetAttachmentId(), content)
		})
	}
}

// A failure worth retrying at any step starts the upload again from start,
// from the bytes the service still holds.
func TestUploadRestartsFromStart(t *testing.T) {
	failures := []struct {
		name  string
		fault sandbox.Fault
	}{
		{"503", sandbox.Fault{Status: http.StatusServiceUnavailable}},
		{"429 with Retry-After", sandbox.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}},
		{"dropped connection", sandbox.Fault{Drop: true}},
	}
	steps := []struct {
		action string
		nth    int
		want   []string
	}{
		{"start", 1, []string{"start", "start", "resume", "resume", "finish"}},
		{"resume", 2, []string{"start", "resume", "resume", "start", "resume", "resume", "finish"}},
		{"finish", 1, []string{"start", "resume", "resume", "finish", "start", "resume", "resume", "finish"}},
	}
	for _, failure := range failures {
		for _, step := range steps {
			t.Run(failure.name+"/"+step.action, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, sandbox.Options{})
				fault := failure.fault
				fault.Endpoint, fault.Action, fault.Nth = sandbox.EndpointChunks, step.action, step.nth
				e.sandbox.InjectFault(fault)
				content := image("image/jpeg", 3_500_000, 11)
				resp, err := e.upload(context.Background(), metadata("restart.jpg", len(content)), content, evenSplit(300_000))
				if err != nil {
					t.Fatalf("upload: %v", err)
				}
				if got := e.actions(); !slices.Equal(got, step.want) {
					t.Errorf("actions = %v, want %v", got, step.want)
				}
				e.readBack(t, resp.GetAttachmentId(), content)
			})
		}
	}
}

func TestUploadRetriesSingle(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointUpload, Status: http.StatusBadGateway, Times: 2})
	content := image("image/png", 1234, 5)
	resp := e.mustUpload(t, metadata("retry.png", len(content)), content)
	if n := len(e.requests(sandbox.EndpointUpload)); n != 3 {
		t.Errorf("%d single uploads, want 3 (two failures, one success)", n)
	}
	e.readBack(t, resp.GetAttachmentId(), content)
}

func TestUploadBookingErrors(t *testing.T) {
	tests := []struct {
		name      string
		fault     sandbox.Fault
		size      int
		want      codes.Code
		wantTries int // requests of the faulted kind
	}{
		{"400 on resume is final", sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "resume", Status: http.StatusBadRequest}, 2_500_000, codes.InvalidArgument, 1},
		{"403 on upload", sandbox.Fault{Endpoint: sandbox.EndpointUpload, Status: http.StatusForbidden}, 10, codes.PermissionDenied, 1},
		{"404 on start", sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "start", Status: http.StatusNotFound}, 2_500_000, codes.NotFound, 1},
		{"429 until the retries run out", sandbox.Fault{Endpoint: sandbox.EndpointUpload, Status: http.StatusTooManyRequests, Times: 100}, 10, codes.ResourceExhausted, 4},
		{"503 until the restarts run out", sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "resume", Status: http.StatusServiceUnavailable, Times: 100}, 2_500_000, codes.Unavailable, 4},
		{"no answer until the retries run out", sandbox.Fault{Endpoint: sandbox.EndpointUpload, Drop: true, Times: 100}, 10, codes.Unavailable, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			e.sandbox.InjectFault(tt.fault)
			content := image("image/png", tt.size, 1)
			_, err := e.upload(context.Background(), metadata("fail.png", tt.size), content, evenSplit(64<<10))
			wantCode(t, err, tt.want)
			var faulted []sandbox.Request
			for _, r := range e.requests(tt.fault.Endpoint) {
				if tt.fault.Action == "" || r.Action == tt.fault.Action {
					faulted = append(faulted, r)
				}
			}
			if len(faulted) != tt.wantTries {
				t.Errorf("%d %s requests, want %d", len(faulted), tt.fault.Endpoint, tt.wantTries)
			}
			if slices.Contains(e.actions(), "finish") {
				t.Errorf("a failed upload sent finish: %v", e.actions())
			}
			if !tt.fault.Drop {
				if got, want := ruidOf(err), faulted[len(faulted)-1].RUID; got == "" || got != want {
					t.Errorf("error's ruid = %q, want the failed response's %q", got, want)
				}
				if !strings.Contains(status.Convert(err).Message(), "ruid") {
					t.Errorf("message %q does not quote the ruid", status.Convert(err).Message())
				}
			}
		})
	}
}

// A stream that fails a check, is cancelled or passes its deadline never
// sends finish, even when every chunk before it went out.
func TestUploadNeverFinishesAFailedStream(t *testing.T) {
	const size = 2_500_000
	content := image("image/png", size, 9)
	wrongDigest := sha256.Sum256([]byte("something else"))
	tests := []struct {
		name string
		meta func(*attachmentsv1.UploadMetadata)
		send []byte
		ctx  func(t *testing.T, e *env) (context.Context, context.CancelFunc)
		want codes.Code
	}{
		{name: "sha256 mismatch", send: content, want: codes.InvalidArgument,
			meta: func(m *attachmentsv1.UploadMetadata) { m.Sha256 = hex.EncodeToString(wrongDigest[:]) }},
		{name: "fewer bytes than declared", send: content[:size-1], want: codes.InvalidArgument},
		{name: "more bytes than declared", send: append(slices.Clone(content), 0), want: codes.InvalidArgument},
		{name: "cancelled", send: content, want: codes.Canceled, ctx: cancelAfterChunks},
		{name: "deadline", send: content, want: codes.DeadlineExceeded, ctx: deadlineAfterChunks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			meta := metadata("checked.png", size)
			if tt.meta != nil {
				tt.meta(meta)
			}
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tt.ctx != nil {
				ctx, cancel = tt.ctx(t, e)
			}
			defer cancel()
			_, err := e.upload(ctx, meta, tt.send, evenSplit(100_000))
			wantCode(t, err, tt.want)
			waitFor(t, "the first chunks", func() bool { return len(e.actions()) >= 1 })
			time.Sleep(50 * time.Millisecond) // a finish would come now
			if got := e.actions(); slices.Contains(got, "finish") {
				t.Errorf("actions = %v, want no finish", got)
			}
		})
	}
}

// cancelAfterChunks cancels the call once Booking has taken the first chunk.
func cancelAfterChunks(t *testing.T, e *env) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(e.actions()) == 0 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	return ctx, cancel
}

// deadlineAfterChunks gives the call a deadline that passes while Booking
// holds the second chunk.
func deadlineAfterChunks(t *testing.T, e *env) (context.Context, context.CancelFunc) {
	e.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "resume", Delay: time.Hour})
	return context.WithTimeout(context.Background(), 2*time.Second)
}
