package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
	"github.com/booking-attachment-gateway/gateway/service"
	"github.com/booking-attachment-gateway/gateway/service/client"
	"github.com/booking-attachment-gateway/gateway/service/idempotency"
	"github.com/booking-attachment-gateway/gateway/service/membudget"
)

const (
	testProperty     = 1234
	testConversation = "conv-42"
)

// setting is one reading of what Booking leaves undocumented.
type setting struct {
	name string
	opts sandbox.Options
}

// settings covers both meanings of "1MB" and both meanings of to.
var settings = []setting{
	{"decimal-MB/exclusive-to", sandbox.Options{MegabyteBytes: 1_000_000}},
	{"decimal-MB/inclusive-to", sandbox.Options{MegabyteBytes: 1_000_000, InclusiveTo: true}},
	{"binary-MB/exclusive-to", sandbox.Options{MegabyteBytes: 1 << 20}},
	{"binary-MB/inclusive-to", sandbox.Options{MegabyteBytes: 1 << 20, InclusiveTo: true}},
}

// forEachSetting runs test once per setting, as a named subtest.
func forEachSetting(t *testing.T, test func(t *testing.T, opts sandbox.Options)) {
	t.Helper()
	for _, s := range settings {
		t.Run(s.name, func(t *testing.T) { test(t, s.opts) })
	}
}

// env is the whole path: a gRPC client over a real TCP connection to the
// service, which calls the sandbox over real HTTP.
type env struct {
	sandbox *sandbox.Server
	addr    string // the service's address
	conn    *grpc.ClientConn
	client  attachmentsv1.AttachmentServiceClient
	logs    *syncBuffer
	memory  *membudget.Budget // shared by the service and its client of Booking
}

// envConfig adjusts an env.
type envConfig struct {
	// wrap, if set, sits between the client and the sandbox, to make the
	// sandbox's answers wrong in ways its faults cannot.
	wrap func(http.Handler) http.Handler
	// secret, if set, replaces the sandbox's client secret in the
	// service's configuration.
	secret string
	// maxMemoryBytes is the memory budget of the service and its client of
	// Booking; 0: none.
	maxMemoryBytes int64
	// memoryWait is how long a call waits for room in it; 0: 200ms.
	memoryWait time.Duration
	// booking, if set, adjusts the configuration of the service's client
	// of Booking.
	booking func(*bookingapi.Config)
	// serve, if set, serves the sandbox instead of httptest.NewServer.
	serve func(http.Handler) *httptest.Server
	// uploadIdleTimeout is the service's; 0: its default.
	uploadIdleTimeout time.Duration
	// records, if set, is the service's store of request_ids.
	records idempotency.Store
	// repeatWait is how long a repeat waits for a running call; 0: the
	// service's default.
	repeatWait time.Duration
}

func newEnv(t testing.TB, opts sandbox.Options) *env {
	t.Helper()
	return newEnvWith(t, opts, envConfig{})
}

func newEnvWith(t testing.TB, opts sandbox.Options, cfg envConfig) *env {
	t.Helper()
	sb := sandbox.New(opts)
	var handler http.Handler = sb
	if cfg.wrap != nil {
		handler = cfg.wrap(sb)
	}
	serve := httptest.NewServer
	if cfg.serve != nil {
		serve = cfg.serve
	}
	httpServer := serve(handler)
	t.Cleanup(httpServer.Close)

	secret := sandbox.DefaultClientSecret
	if cfg.secret != "" {
		secret = cfg.secret
	}
	if cfg.memoryWait == 0 {
		cfg.memoryWait = 200 * time.Millisecond
	}
	memory := membudget.New(cfg.maxMemoryBytes, cfg.memoryWait)
	booking := bookingClient(t, httpServer.URL, secret, func(c *bookingapi.Config) {
		c.Memory = memory
		if cfg.booking != nil {
			cfg.booking(c)
		}
	})
	logs := &syncBuffer{}
	grpcServer := grpc.NewServer(service.ServerOption())
	service.Register(grpcServer, service.New(booking, service.Options{
		Logger:            slog.New(slog.NewJSONHandler(logs, nil)),
		UploadIdleTimeout: cfg.uploadIdleTimeout,
		Records:           cfg.records,
		RepeatWait:        cfg.repeatWait,
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go grpcServer.Serve(lis)
	t.Cleanup(grpcServer.Stop)

	e := &env{sandbox: sb, addr: lis.Addr().String(), logs: logs, memory: memory}
	e.conn = e.dial(t)
	e.client = attachmentsv1.NewAttachmentServiceClient(e.conn)
	return e
}

// dial opens a new connection to the service, as another client would.
func (e *env) dial(t testing.TB) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// bookingClient returns a Client of the sandbox served at url, with backoffs
// in the millisecond range that still wait a Retry-After of up to 2s, and
// the configuration adjusted by adjust if it is not nil.
func bookingClient(t testing.TB, url, secret string, adjust func(*bookingapi.Config)) *bookingapi.Client {
	t.Helper()
	cfg := bookingapi.Config{
		BaseURL:      url,
		AuthURL:      url + "/token-based-authentication/exchange",
		ClientID:     sandbox.DefaultClientID,
		ClientSecret: secret,
		Retry:        bookingapi.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Second},
	}
	if adjust != nil {
		adjust(&cfg)
	}
	client, err := bookingapi.New(cfg)
	if err != nil {
		t.Fatalf("bookingapi.New: %v", err)
	}
	return client
}

// rewriteData returns a wrapper of the sandbox that passes the data object
// of each answer to a request that match accepts through edit.
func rewriteData(match func(*http.Request) bool, edit func(data map[string]any)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			answer := rec.Body.Bytes()
			var body map[string]any
			if json.Unmarshal(answer, &body) == nil && match(r) {
				if data, ok := body["data"].(map[string]any); ok {
					edit(data)
					answer, _ = json.Marshal(body)
				}
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			w.Write(answer)
		})
	}
}

// image returns size bytes that start with the signature of fileType and
// continue at random.
func image(fileType string, size int, seed uint64) []byte {
	b := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	signature := []byte{0xFF, 0xD8, 0xFF}
	if fileType == "image/png" {
		signature = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
	}
	copy(b, signature)
	return b
}

func metadata(fileName string, size int) *attachmentsv1.UploadMetadata {
	return &attachmentsv1.UploadMetadata{
		PropertyId:     testProperty,
		ConversationId: testConversation,
		FileName:       fileName,
		FileSize:       int64(size),
	}
}

// evenSplit cuts content into messages of n bytes.
func evenSplit(n int) func(rest int) int {
	return func(rest int) int { return min(rest, n) }
}

// randomSplit cuts content into messages of random sizes, some of one byte.
func randomSplit(seed uint64) func(rest int) int {
	rng := rand.New(rand.NewPCG(seed, 1))
	return func(rest int) int {
		switch rng.IntN(4) {
		case 0:
			return min(rest, 1+rng.IntN(8))
		default:
			return min(rest, 1+rng.IntN(700_000))
		}
	}
}

// upload sends meta, then content in messages cut by split, and closes.
func (e *env) upload(ctx context.Context, meta *attachmentsv1.UploadMetadata, content []byte, split func(rest int) int) (*attachmentsv1.UploadAttachmentResponse, error) {
	return uploadWith(ctx, e.client, meta, content, split)
}

// uploadWith is env.upload through client.
func uploadWith(ctx context.Context, client attachmentsv1.AttachmentServiceClient, meta *attachmentsv1.UploadMetadata, content []byte, split func(rest int) int) (*attachmentsv1.UploadAttachmentResponse, error) {
	stream, err := client.UploadAttachment(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Metadata{Metadata: meta}}); err != nil {
		return stream.CloseAndRecv()
	}
	for rest := content; len(rest) > 0; {
		n := split(len(rest))
		err := stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Data{Data: rest[:n]}})
		if err != nil {
			break // the server ended the call: CloseAndRecv returns why
		}
		rest = rest[n:]
	}
	return stream.CloseAndRecv()
}

// mustUpload uploads content with the service's Go client and fails the
// test unless it succeeds.
func (e *env) mustUpload(t testing.TB, meta *attachmentsv1.UploadMetadata, content []byte) *attachmentsv1.UploadAttachmentResponse {
	t.Helper()
	up, err := client.New(e.conn).Upload(context.Background(),
		client.Conversation{PropertyID: meta.GetPropertyId(), ConversationID: meta.GetConversationId()},
		client.File{Name: meta.GetFileName(), Type: meta.GetFileType(), Size: meta.GetFileSize(), SHA256: meta.GetSha256()},
		bytes.NewReader(content),
		client.UploadOptions{MessageContent: meta.GetMessageContent(), RequestID: meta.GetRequestId()})
	if err != nil {
		t.Fatalf("upload of %d bytes: %v", len(content), err)
	}
	return &attachmentsv1.UploadAttachmentResponse{
		AttachmentId: up.AttachmentID,
		MessageId:    up.MessageID,
		Sha256:       up.SHA256,
		Info:         &attachmentsv1.AttachmentInfo{FileName: up.Info.Name, FileType: up.Info.Type, FileSize: up.Info.Size},
	}
}

// download reads an attachment's stream: its info message and its bytes. It
// checks the stream's shape: info first and once, data messages within 1 MiB.
func (e *env) download(t *testing.T, req *attachmentsv1.DownloadAttachmentRequest) (*attachmentsv1.AttachmentInfo, []byte, error) {
	t.Helper()
	stream, err := e.client.DownloadAttachment(context.Background(), req)
	if err != nil {
		return nil, nil, err
	}
	var info *attachmentsv1.AttachmentInfo
	var data []byte
	for i := 0; ; i++ {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return info, data, nil
		}
		if err != nil {
			return info, data, err
		}
		switch part := msg.GetPart().(type) {
		case *attachmentsv1.DownloadAttachmentResponse_Info:
			if i != 0 {
				t.Errorf("info is message %d of the stream, want it first and once", i)
			}
			info = part.Info
		case *attachmentsv1.DownloadAttachmentResponse_Data:
			if i == 0 {
				t.Errorf("the stream starts with data, not info")
			}
			if len(part.Data) > 1<<20 {
				t.Errorf("data message of %d bytes, want at most 1 MiB", len(part.Data))
			}
			data = append(data, part.Data...)
		}
	}
}

// readBack downloads the whole attachment with the service's Go client and
// fails the test unless it matches want byte for byte.
func (e *env) readBack(t *testing.T, attachmentID string, want []byte) {
	t.Helper()
	var got bytes.Buffer
	info, _, err := client.New(e.conn).Download(context.Background(),
		client.Ref{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: attachmentID}, &got, client.DownloadOptions{})
	if err != nil {
		t.Fatalf("download %s: %v", attachmentID, err)
	}
	if info.Size != int64(len(want)) {
		t.Errorf("downloaded info says %d bytes, want %d", info.Size, len(want))
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("downloaded %d bytes that differ from the %d uploaded", got.Len(), len(want))
	}
}

// requests returns the sandbox's requests of the given endpoints.
func (e *env) requests(endpoints ...sandbox.Endpoint) []sandbox.Request {
	var out []sandbox.Request
	for _, r := range e.sandbox.Requests() {
		if slices.Contains(endpoints, r.Endpoint) {
			out = append(out, r)
		}
	}
	return out
}

// actions lists the chunked upload's actions in the order they arrived.
func (e *env) actions() []string {
	var out []string
	for _, r := range e.requests(sandbox.EndpointChunks) {
		out = append(out, r.Action)
	}
	return out
}

// wantCode fails the test unless err is a status with code.
func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if got := status.Code(err); got != code {
		t.Fatalf("got %v (%v), want code %v", got, err, code)
	}
}

// ruidOf returns the ruid of err's ErrorInfo detail, or "".
func ruidOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetMetadata()["ruid"]
		}
	}
	return ""
}

// waitFor polls cond until it holds or five seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// withDeadline returns a context with a deadline d from now, or none if d
// is 0, as the caller of a call sets it.
func withDeadline(t testing.TB, d time.Duration) context.Context {
	if d == 0 {
		return context.Background()
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
