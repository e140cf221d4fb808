// Package service implements attachments.v1.AttachmentService on top of
// Booking's Messaging API: it turns gRPC streams into bookingapi calls and
// back, validates input before anything reaches Booking, and maps every error
// to a gRPC status in one place. It knows nothing of HTTP or JSON. Serve it
// with Register, on a grpc.Server built with ServerOption.
package service

import (
	"log/slog"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
	"github.com/booking-attachment-gateway/gateway/service/idempotency"
)

// Metrics counts what the service moves. Its methods must be safe for
// concurrent use.
type Metrics interface {
	// Uploaded counts a committed upload of size bytes.
	Uploaded(chunked bool, size int64)
	// Downloaded counts size bytes streamed to a caller.
	Downloaded(size int64)
	// MessagePosted counts a message post by its result: "posted",
	// "failed" (certainly not posted) or "unknown" (Booking may have
	// posted it).
	MessagePosted(result string)
	// Replayed counts a call answered from the record of an earlier call
	// with the same request_id, without reaching Booking.
	Replayed()
}

// Options configure the service. Zero values give the defaults documented
// on each field.
type Options struct {
	// Logger receives what the per-call log line cannot show: the causes of
	// internal errors, which clients are not told. Nil discards them.
	Logger *slog.Logger
	// Metrics counts uploads and downloads. Nil counts nothing.
	Metrics Metrics
	// UploadIdleTimeout is how long an upload waits for its client's next
	// message, the first one included. When it passes, the upload fails
	// with DEADLINE_EXCEEDED, gives back what it held and commits nothing
	// at Booking. Time the service spends sending to Booking does not
	// count. Zero or less means 30 seconds.
	UploadIdleTimeout time.Duration
	// Records keeps the outcomes of calls made with a request_id. Nil means
	// an idempotency.Memory of this process, with RequestIDTTL and
	// MaxRequestIDs.
	Records idempotency.Store
	// RequestIDTTL is how long a request_id's outcome is kept. 0 means
	// idempotency.DefaultTTL, 24 hours.
	RequestIDTTL time.Duration
	// MaxRequestIDs bounds the request_ids the default store keeps; when
	// they are all live, a call with a new request_id fails with
	// RESOURCE_EXHAUSTED. 0 means idempotency.DefaultMaxRecords.
	MaxRequestIDs int
	// RepeatWait bounds how long a repeat waits for a call with the same
	// request_id that still runs, before it fails with ABORTED. 0 means 2
	// minutes.
	RepeatWait time.Duration
}

// server is the AttachmentService.
type server struct {
	attachmentsv1.UnimplementedAttachmentServiceServer
	booking *bookingapi.Client
	log     *slog.Logger
	metrics Metrics
	idle    time.Duration // Options.UploadIdleTimeout, defaulted

	records    idempotency.Store
	recordTTL  time.Duration
	repeatWait time.Duration
}

var _ attachmentsv1.AttachmentServiceServer = (*server)(nil)

// New returns the AttachmentService, calling Booking through booking.
func New(booking *bookingapi.Client, opts Options) attachmentsv1.AttachmentServiceServer {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = nopMetrics{}
	}
	if opts.UploadIdleTimeout <= 0 {
		opts.UploadIdleTimeout = defaultUploadIdleTimeout
	}
	if opts.RequestIDTTL <= 0 {
		opts.RequestIDTTL = idempotency.DefaultTTL
	}
	if opts.Records == nil {
		opts.Records = idempotency.NewMemory(idempotency.MemoryOptions{TTL: opts.RequestIDTTL, MaxRecords: opts.MaxRequestIDs})
	}
	if opts.RepeatWait <= 0 {
		opts.RepeatWait = defaultRepeatWait
	}
	return &server{
		booking:    booking,
		log:        opts.Logger,
		metrics:    opts.Metrics,
		idle:       opts.UploadIdleTimeout,
		records:    opts.Records,
		recordTTL:  opts.RequestIDTTL,
		repeatWait: opts.RepeatWait,
	}
}

type nopMetrics struct{}

func (nopMetrics) Uploaded(bool, int64) {}
func (nopMetrics) Downloaded(int64)     {}
func (nopMetrics) MessagePosted(string) {}
func (nopMetrics) Replayed()            {}
