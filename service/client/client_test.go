package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	"github.com/booking-attachment-gateway/gateway/service"
	"github.com/booking-attachment-gateway/gateway/service/client"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var conv = client.Conversation{PropertyID: 1234, ConversationID: "conv-1"}

// newClient serves the gateway against a sandbox over HTTP, on a loopback
// port, and returns a client of it.
func newClient(t *testing.T) (*client.Client, *sandbox.Server) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	web := httptest.NewServer(sb)
	t.Cleanup(web.Close)
	booking, err := bookingapi.New(bookingapi.Config{BaseURL: web.URL, AuthURL: web.URL + "/token-based-authentication/exchange",
		ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
		Retry: bookingapi.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer(service.ServerOption())
	service.Register(server, service.New(booking, service.Options{Logger: slog.New(slog.DiscardHandler)}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go server.Serve(lis)
	t.Cleanup(server.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return client.New(conn), sb
}

func png(size int, seed uint64) []byte {
	b := make([]byte, size)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	copy(b, []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'})
	return b
}

// onlyReader hides every method of a reader but Read, as a pipe has.
type onlyReader struct{ io.Reader }

func TestUploadAndDownload(t *testing.T) {
	t.Parallel()
	c, sb := newClient(t)
	content := png(3_500_000, 1)
	digest := sha256.Sum256(content)
	tests := []struct {
		name      string
		reader    io.Reader
		wantTotal int64 // the total Progress is told
	}{
		{"from a seekable reader: size and sha256 declared", bytes.NewReader(content), int64(len(content))},
		{"from a pipe: neither known", onlyReader{bytes.NewReader(content)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var last, total int64
			up, err := c.Upload(context.Background(), conv, client.File{Name: "room.png"}, tt.reader, client.UploadOptions{
				Progress: func(sent, tot int64) {
					if sent < last {
						t.Errorf("progress went back from %d to %d", last, sent)
					}
					last, total = sent, tot
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if up.SHA256 != hex.EncodeToString(digest[:]) || up.Info.Size != int64(len(content)) || up.Info.Type != "image/png" {
				t.Errorf("Upload = %+v, want the file's size, type and digest", up)
			}
			if last != int64(len(content)) || total != tt.wantTotal {
				t.Errorf("progress ended at %d of %d, want %d of %d", last, total, len(content), tt.wantTotal)
			}
			var got bytes.Buffer
			var received int64
			info, n, err := c.Download(context.Background(), client.Ref{PropertyID: conv.PropertyID, ConversationID: conv.ConversationID, AttachmentID: up.AttachmentID},
				&got, client.DownloadOptions{Progress: func(r, _ int64) { received = r }})
			if err != nil || n != int64(len(content)) || !bytes.Equal(got.Bytes(), content) || info.Name != "room.png" || received != n {
				t.Fatalf("Download = %+v, %d, %v; want the file", info, n, err)
			}
			var slice bytes.Buffer
			_, n, err = c.Download(context.Background(), client.Ref{PropertyID: conv.PropertyID, ConversationID: conv.ConversationID, AttachmentID: up.AttachmentID},
				&slice, client.DownloadOptions{Offset: 1_999_990, Limit: 20})
			if err != nil || n != 20 || !bytes.Equal(slice.Bytes(), content[1_999_990:2_000_010]) {
				t.Errorf("Download of a slice = %d, %v; want 20 bytes across a range", n, err)
			}
		})
	}
	// A declared sha256 that the bytes do not match commits nothing.
	before := len(sb.AttachmentIDs(conv.PropertyID, conv.ConversationID))
	_, err := c.Upload(context.Background(), conv, client.File{Name: "x.png", SHA256: strings.Repeat("0", 64)}, bytes.NewReader(content), client.UploadOptions{})
	var e *client.Error
	if !errors.As(err, &e) || e.Code != codes.InvalidArgument || status.Code(err) != codes.InvalidArgument {
		t.Errorf("Upload with a wrong sha256 = %v, want an *Error of INVALID_ARGUMENT that status.Code sees", err)
	}
	if n := len(sb.AttachmentIDs(conv.PropertyID, conv.ConversationID)); n != before {
		t.Errorf("the refused upload left %d attachments more", n-before)
	}
}

func TestInfoAndMessages(t *testing.T) {
	t.Parallel()
	c, sb := newClient(t)
	up, err := c.Upload(context.Background(), conv, client.File{Name: "a.png"}, bytes.NewReader(png(1000, 2)),
		client.UploadOptions{MessageContent: "Welcome", RequestID: "first"})
	if err != nil || up.MessageID == "" {
		t.Fatalf("Upload with a message = %+v, %v", up, err)
	}
	ref := client.Ref{PropertyID: conv.PropertyID, ConversationID: conv.ConversationID, AttachmentID: up.AttachmentID}
	if info, err := c.GetInfo(context.Background(), ref); err != nil || info != (client.Info{Name: "a.png", Type: "image/png", Size: 1000}) {
		t.Errorf("GetInfo = %+v, %v", info, err)
	}
	id, err := c.SendMessage(context.Background(), conv, client.Message{Content: "Again", AttachmentIDs: []string{up.AttachmentID}})
	if err != nil || id == "" {
		t.Fatalf("SendMessage = %q, %v", id, err)
	}
	if msgs := sb.Messages(conv.PropertyID, conv.ConversationID); len(msgs) != 2 || msgs[1].ID != id {
		t.Errorf("the guest sees %+v", msgs)
	}
}

// TestErrors checks what an *Error tells of the gateway's statuses.
func TestErrors(t *testing.T) {
	t.Parallel()
	c, sb := newClient(t)
	_, err := c.GetInfo(context.Background(), client.Ref{PropertyID: 1234, ConversationID: "conv-1", AttachmentID: "nope"})
	var e *client.Error
	if !errors.As(err, &e) || e.Code != codes.NotFound || e.RUID == "" || e.HTTPStatus != 404 || e.Reason != "BOOKING_FILE_INFO_FAILED" {
		t.Errorf("GetInfo of a missing attachment = %#v, want NOT_FOUND with the ruid, 404 and the reason", err)
	}
	if line := client.Line(err); !strings.HasPrefix(line, "NOT_FOUND: ") || !strings.Contains(line, e.RUID) {
		t.Errorf("Line = %q, want the code and the ruid", line)
	}

	sb.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointMessages, Status: 403})
	_, err = c.Upload(context.Background(), conv, client.File{Name: "b.png"}, bytes.NewReader(png(1000, 3)), client.UploadOptions{MessageContent: "hi"})
	stored := sb.AttachmentIDs(conv.PropertyID, conv.ConversationID)
	if !errors.As(err, &e) || e.Code != codes.PermissionDenied || len(stored) != 1 || e.AttachmentID != stored[0] {
		t.Errorf("Upload whose message fails = %#v, want PERMISSION_DENIED naming the committed attachment %v", err, stored)
	}

	sb.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Status: 429, RetryAfter: "3600"})
	_, err = c.GetInfo(context.Background(), client.Ref{PropertyID: 1234, ConversationID: "conv-1", AttachmentID: stored[0]})
	if !errors.As(err, &e) || e.Code != codes.ResourceExhausted || e.RetryAfter != time.Hour {
		t.Errorf("GetInfo with Retry-After 3600 = %#v, want RESOURCE_EXHAUSTED and RetryAfter 1h", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.GetInfo(ctx, client.Ref{PropertyID: 1234, ConversationID: "conv-1", AttachmentID: "a"})
	if !errors.As(err, &e) || e.Code != codes.Canceled {
		t.Errorf("GetInfo with a cancelled ctx = %#v, want CANCELLED", err)
	}

	// A reader that fails ends the upload: nothing is committed.
	failing := io.MultiReader(bytes.NewReader(png(1_500_000, 4)), iotestErr{})
	_, err = c.Upload(context.Background(), conv, client.File{Name: "c.png", Size: 3_000_000}, onlyReader{failing}, client.UploadOptions{})
	if err == nil || !strings.Contains(err.Error(), "reading the file") || errors.As(err, &e) {
		t.Errorf("Upload from a failing reader = %v, want the read error itself", err)
	}
	if n := len(sb.AttachmentIDs(conv.PropertyID, conv.ConversationID)); n != 1 {
		t.Errorf("Booking holds %d attachments after the failed read, want still 1", n)
	}
}

// iotestErr is a reader that fails.
type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }
