package telemetry

import (
	"context"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
)

// Metrics are the service's own Prometheus metrics. It is a
// bookingapi.Observer, for the calls to Booking, and records what the
// service moves. It also adds each ruid Booking answers with to the Call of
// the RPC that made the call. Safe for concurrent use.
type Metrics struct {
	bookingRequests *prometheus.CounterVec
	bookingLatency  *prometheus.HistogramVec
	queueWait       prometheus.Histogram
	newConnections  prometheus.Counter
	retries         *prometheus.CounterVec
	notRetried      *prometheus.CounterVec
	commitRetries   *prometheus.CounterVec
	restarts        prometheus.Counter
	tokenExchanges  *prometheus.CounterVec
	uploads         *prometheus.CounterVec
	uploadedBytes   prometheus.Counter
	downloadedBytes prometheus.Counter
	messages        *prometheus.CounterVec
	replays         prometheus.Counter
}

var _ bookingapi.Observer = (*Metrics)(nil)

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		bookingRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "attachmentd_booking_requests_total",
			Help: "HTTP requests to Booking, by call and HTTP status (0: no answer).",
		}, []string{"call", "status"}),
		bookingLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "attachmentd_booking_request_duration_seconds",
			Help:    "Time from sending a request to Booking to reading its answer, by call.",
			Buckets: []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"call"}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "attachmentd_booking_queue_seconds",
			Help:    "Time requests to Booking waited for one of the --booking-max-in-flight slots.",
			Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30},
		}),
		newConnections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "attachmentd_booking_connections_opened_total",
			Help: "Requests to Booking that opened a new connection instead of reusing an idle one.",
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "attachmentd_booking_retries_total",
			Help: "Requests to Booking sent again, by call and by what Booking may have done with the failed one (not_sent, refused, maybe_processed).",
		}, []string{"call", "outcome"}),
		notRetried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "attachmentd_booking_retries_denied_total",
			Help: "Failed requests to Booking that were not sent again though their kind is retried, by call and reason: budget (the shared retry budget is spent) or retry_after (Booking asked to wait too long).",
		}, []string{"call", "reason"}),
		commitRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "attachmentd_booking_commit_retries_total",
			Help: "Commits of an upload (upload, chunk finish) sent again after their answer was lost: each may leave an orphan attachment at Booking that no guest sees.",
		}, []string{"call"}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "attachmentd_upload_restarts_total",
			Help: "Chunked uploads started again from start after a failed chunk.",
		}),
		tokenExchanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "attachmentd_token_exchanges_total",
			Help: "Exchanges of the credentials for an access token, by result (ok or error).",
		}, []string{"result"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "attachmentd_uploads_total",
			Help: "Attachments uploaded, by path (single or chunked).",
		}, []string{"path"}),
		uploadedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "attachmentd_uploaded_bytes_total",
			Help: "File bytes of the attachments uploaded.",
		}),
		downloadedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "attachmentd_downloaded_bytes_total",
			Help: "File bytes streamed to callers by downloads.",
		}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "attachmentd_messages_total",
			Help: "Message posts to guests, by result: posted, failed (certainly not posted) or unknown (Booking may have posted it).",
		}, []string{"result"}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "attachmentd_request_id_replays_total",
			Help: "Calls answered from the record of an earlier call with the same request_id, without reaching Booking.",
		}),
	}
	reg.MustRegister(m.bookingRequests, m.bookingLatency, m.queueWait, m.newConnections,
		m.retries, m.notRetried, m.commitRetries, m.restarts,
		m.tokenExchanges, m.uploads, m.uploadedBytes, m.downloadedBytes, m.messages, m.replays)
	// Series that exist from the start, so that rates work from the first
	// scrape.
	for _, path := range []string{"single", "chunked"} {
		m.uploads.WithLabelValues(path)
	}
	for _, result := range []string{"ok", "error"} {
		m.tokenExchanges.WithLabelValues(result)
	}
	for _, result := range []string{"posted", "failed", "unknown"} {
		m.messages.WithLabelValues(result)
	}
	return m
}

// Exchanged counts one HTTP exchange with Booking.
func (m *Metrics) Exchanged(ctx context.Context, x bookingapi.Exchange) {
	m.bookingRequests.WithLabelValues(x.Op, strconv.Itoa(x.Status)).Inc()
	m.bookingLatency.WithLabelValues(x.Op).Observe(x.Took.Seconds())
	if x.Op == bookingapi.OpTokenExchange {
		result := "error"
		if x.Status >= 200 && x.Status <= 299 {
			result = "ok"
		}
		m.tokenExchanges.WithLabelValues(result).Inc()
	} else {
		m.queueWait.Observe(x.Queued.Seconds())
	}
	if x.NewConnection {
		m.newConnections.Inc()
	}
	CallFrom(ctx).AddRUID(x.RUID)
}

// Retried counts a request sent again, or a chunked upload started again.
func (m *Metrics) Retried(_ context.Context, r bookingapi.Retry) {
	m.retries.WithLabelValues(r.Op, r.Outcome.String()).Inc()
	if r.Restart {
		m.restarts.Inc()
	}
	if r.Commit {
		m.commitRetries.WithLabelValues(r.Op).Inc()
	}
}

// NotRetried counts a failure returned without the retry its kind gets.
func (m *Metrics) NotRetried(_ context.Context, op, reason string) {
	m.notRetried.WithLabelValues(op, reason).Inc()
}

// Uploaded counts an upload of size bytes that went by chunks or not.
func (m *Metrics) Uploaded(chunked bool, size int64) {
	path := "single"
	if chunked {
		path = "chunked"
	}
	m.uploads.WithLabelValues(path).Inc()
	m.uploadedBytes.Add(float64(size))
}

// Downloaded counts size bytes streamed by a download.
func (m *Metrics) Downloaded(size int64) { m.downloadedBytes.Add(float64(size)) }

// MessagePosted counts a message post by its result.
func (m *Metrics) MessagePosted(result string) { m.messages.WithLabelValues(result).Inc() }

// Replayed counts a call answered from a request_id's record.
func (m *Metrics) Replayed() { m.replays.Inc() }
