package service_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

func TestDownloadSlices(t *testing.T) {
	forEachSetting(t, func(t *testing.T, opts sandbox.Options) {
		e := newEnv(t, opts)
		const size = 2_500_003
		content := image("image/jpeg", size, 21)
		id := e.mustUpload(t, metadata("slices.jpg", size), content).GetAttachmentId()
		small := image("image/png", 4_321, 22)
		smallID := e.mustUpload(t, metadata("small.png", len(small)), small).GetAttachmentId()

		tests := []struct {
			name          string
			id            string
			offset, limit int64
			want          []byte
		}{
			{"whole", id, 0, 0, content},
			{"whole small file", smallID, 0, 0, small},
			{"first byte", id, 0, 1, content[:1]},
			{"last byte", id, size - 1, 0, content[size-1:]},
			{"across the first range boundary", id, 999_998, 4, content[999_998:1_000_002]},
			{"exactly one range", id, 0, 1_000_000, content[:1_000_000]},
			{"one range and one byte", id, 0, 1_000_001, content[:1_000_001]},
			{"middle to end", id, 1_234_567, 0, content[1_234_567:]},
			{"limit past the end", id, 2_000_000, 5_000_000, content[2_000_000:]},
			{"offset at the end", id, size, 0, nil},
			{"small slice of small file", smallID, 100, 10, small[100:110]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := len(e.requests(sandbox.EndpointDownload))
				info, got, err := e.download(t, &attachmentsv1.DownloadAttachmentRequest{
					PropertyId: testProperty, ConversationId: testConversation, AttachmentId: tt.id,
					ReadOffset: tt.offset, ReadLimit: tt.limit,
				})
				if err != nil {
					t.Fatalf("download: %v", err)
				}
				if info == nil {
					t.Fatal("no info message")
				}
				if !bytes.Equal(got, tt.want) {
					t.Fatalf("got %d bytes, want %d bytes [%d, %d)", len(got), len(tt.want), tt.offset, tt.offset+int64(len(tt.want)))
				}
				for _, r := range e.requests(sandbox.EndpointDownload)[before:] {
					checkRange(t, r, info.GetFileSize(), opts.InclusiveTo)
				}
			})
		}
	})
}

// checkRange fails the test unless r asked for at most 1,000,000 bytes.
func checkRange(t *testing.T, r sandbox.Request, size int64, inclusive bool) {
	t.Helper()
	from, err := strconv.ParseInt(r.Query.Get("from"), 10, 64)
	if err != nil {
		t.Errorf("download without a valid from: %v", r.Query)
		return
	}
	end := size
	if to := r.Query.Get("to"); to != "" {
		end, _ = strconv.ParseInt(to, 10, 64)
		if inclusive {
			end++
		}
		end = min(end, size)
	}
	if end-from > 1_000_000 {
		t.Errorf("a GET asked for %d bytes (%v), want at most 1,000,000", end-from, r.Query)
	}
}

func TestDownloadOutOfRange(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	content := image("image/png", 1000, 1)
	id := e.mustUpload(t, metadata("a.png", len(content)), content).GetAttachmentId()
	_, _, err := e.download(t, &attachmentsv1.DownloadAttachmentRequest{
		PropertyId: testProperty, ConversationId: testConversation, AttachmentId: id, ReadOffset: 1001,
	})
	wantCode(t, err, codes.OutOfRange)
}

func TestDownloadAndInfoOfUnknownAttachment(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	_, _, err := e.download(t, &attachmentsv1.DownloadAttachmentRequest{
		PropertyId: testProperty, ConversationId: testConversation, AttachmentId: "no-such-id",
	})
	wantCode(t, err, codes.NotFound)
	if ruidOf(err) == "" {
		t.Errorf("error %v has no ruid detail", err)
	}
	_, err = e.client.GetAttachmentInfo(context.Background(), &attachmentsv1.GetAttachmentInfoRequest{
		PropertyId: testProperty, ConversationId: testConversation, AttachmentId: "no-such-id",
	})
	wantCode(t, err, codes.NotFound)
}

func TestGetAttachmentInfo(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	content := image("image/jpeg", 1_500_000, 3)
	resp := e.mustUpload(t, metadata("photo of the room.jpg", 0), content)
	got, err := e.client.GetAttachmentInfo(context.Background(), &attachmentsv1.GetAttachmentInfoRequest{
		PropertyId: testProperty, ConversationId: testConversation, AttachmentId: resp.GetAttachmentId(),
	})
	if err != nil {
		t.Fatalf("GetAttachmentInfo: %v", err)
	}
	want := &attachmentsv1.AttachmentInfo{FileName: "photo of the room.jpg", FileType: "image/jpeg", FileSize: 1_500_000}
	if !proto.Equal(got.GetInfo(), want) || !proto.Equal(resp.GetInfo(), want) {
		t.Errorf("info = %v, upload said %v, want %v", got.GetInfo(), resp.GetInfo(), want)
	}
}

func TestDownloadRetriesGets(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	content := image("image/png", 2_500_000, 8)
	id := e.mustUpload(t, metadata("retry.png", len(content)), content).GetAttachmentId()
	e.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Status: http.StatusServiceUnavailable})
	e.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointDownload, Nth: 2, Status: http.StatusTooManyRequests, Times: 2})
	e.readBack(t, id, content)
	if n := len(e.requests(sandbox.EndpointDownload)); n != 5 {
		t.Errorf("%d download GETs, want 5 (three ranges, two retried)", n)
	}
}

// Booking's answers that disagree with file_info are DATA_LOSS, never a
// short or long stream that looks complete.
func TestDownloadDataLoss(t *testing.T) {
	tests := []struct {
		name    string
		rewrite func(content []byte) []byte
	}{
		{"no bytes before the end", func([]byte) []byte { return nil }},
		{"more bytes than file_info said", func(c []byte) []byte { return append(c, 1, 2, 3) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, sandbox.Options{}, envConfig{wrap: rewriteDownloads(tt.rewrite)})
			content := image("image/png", 1_500_000, 2)
			id := e.mustUpload(t, metadata("loss.png", len(content)), content).GetAttachmentId()
			_, _, err := e.download(t, &attachmentsv1.DownloadAttachmentRequest{
				PropertyId: testProperty, ConversationId: testConversation, AttachmentId: id,
			})
			wantCode(t, err, codes.DataLoss)
		})
	}
}

// rewriteDownloads changes the file_content of the sandbox's download answers.
func rewriteDownloads(rewrite func([]byte) []byte) func(http.Handler) http.Handler {
	isDownload := func(r *http.Request) bool {
		return r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/file_info")
	}
	return rewriteData(isDownload, func(data map[string]any) {
		s, _ := data["file_content"].(string)
		content, _ := base64.StdEncoding.DecodeString(s)
		data["file_content"] = rewrite(content)
	})
}
