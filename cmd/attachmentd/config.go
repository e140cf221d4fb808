package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
)

// config is the server's configuration, from flags and environment
// variables; a flag wins over its variable.
type config struct {
	listen        string // gRPC address: host:port or unix:///path
	metricsListen string // Prometheus address; empty: no metrics listener
	sandbox       bool   // serve against the in-process Booking sandbox
	logFormat     string // "json" or "text"; "" until run chooses for the terminal
	showVersion   bool

	drainDelay      time.Duration // after SIGTERM, keep serving this long so the mesh stops routing here
	shutdownTimeout time.Duration // then, how long running calls may take to finish

	maxConcurrentStreams  uint
	maxRecvMsgBytes       int
	maxMemoryBytes        int64
	memoryWait            time.Duration
	requestIDTTL          time.Duration
	maxRequestIDs         int
	uploadIdleTimeout     time.Duration
	maxConnectionAge      time.Duration
	maxConnectionAgeGrace time.Duration
	keepaliveTime         time.Duration
	keepaliveTimeout      time.Duration
	keepaliveMinTime      time.Duration

	tlsCert, tlsKey, tlsClientCA string

	booking bookingapi.Config // credentials unused with sandbox
}

// flagEnv names the environment variable of each flag that has one.
var flagEnv = map[string]string{
	"listen":                   "ATTACHMENTD_LISTEN",
	"metrics-listen":           "ATTACHMENTD_METRICS_LISTEN",
	"sandbox":                  "ATTACHMENTD_SANDBOX",
	"log-format":               "ATTACHMENTD_LOG_FORMAT",
	"drain-delay":              "ATTACHMENTD_DRAIN_DELAY",
	"shutdown-timeout":         "ATTACHMENTD_SHUTDOWN_TIMEOUT",
	"max-concurrent-streams":   "ATTACHMENTD_MAX_CONCURRENT_STREAMS",
	"max-recv-msg-size":        "ATTACHMENTD_MAX_RECV_MSG_SIZE",
	"max-memory":               "ATTACHMENTD_MAX_MEMORY",
	"memory-wait":              "ATTACHMENTD_MEMORY_WAIT",
	"booking-parallel-ranges":  "ATTACHMENTD_BOOKING_PARALLEL_RANGES",
	"upload-idle-timeout":      "ATTACHMENTD_UPLOAD_IDLE_TIMEOUT",
	"max-connection-age":       "ATTACHMENTD_MAX_CONNECTION_AGE",
	"max-connection-age-grace": "ATTACHMENTD_MAX_CONNECTION_AGE_GRACE",
	"keepalive-time":           "ATTACHMENTD_KEEPALIVE_TIME",
	"keepalive-timeout":        "ATTACHMENTD_KEEPALIVE_TIMEOUT",
	"keepalive-min-time":       "ATTACHMENTD_KEEPALIVE_MIN_TIME",
	"tls-cert":                 "ATTACHMENTD_TLS_CERT",
	"tls-key":                  "ATTACHMENTD_TLS_KEY",
	"tls-client-ca":            "ATTACHMENTD_TLS_CLIENT_CA",
	"booking-max-in-flight":    "ATTACHMENTD_BOOKING_MAX_IN_FLIGHT",
	"request-id-ttl":           "ATTACHMENTD_REQUEST_ID_TTL",
	"max-request-ids":          "ATTACHMENTD_MAX_REQUEST_IDS",
	"booking-response-timeout": "ATTACHMENTD_BOOKING_RESPONSE_TIMEOUT",
	"booking-request-timeout":  "ATTACHMENTD_BOOKING_REQUEST_TIMEOUT",
}

// parseConfig reads the flags in args and the variables through getenv.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("attachmentd", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() {
		fmt.Fprint(usage, "Usage: attachmentd [flags]\n\n"+
			"Serves attachments.v1.AttachmentService over gRPC, calling Booking.com's Messaging API.\n"+
			"Booking is configured with BOOKING_API_URL, BOOKING_AUTH_URL, BOOKING_CLIENT_ID and\n"+
			"BOOKING_CLIENT_SECRET (or BOOKING_CLIENT_SECRET_FILE), unless --sandbox is given.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.listen, "listen", ":50051", "gRPC listen address, host:port or unix:///path")
	fs.StringVar(&cfg.metricsListen, "metrics-listen", ":9090", "Prometheus metrics listen address, served at /metrics; empty to serve none")
	fs.BoolVar(&cfg.sandbox, "sandbox", false, "serve against the built-in sandbox of Booking's API; no credentials needed")
	fs.StringVar(&cfg.logFormat, "log-format", "", "log format: json or text (default json; text with --sandbox when standard error is a terminal)")
	fs.BoolVar(&cfg.showVersion, "version", false, "print the version and exit")
	fs.DurationVar(&cfg.drainDelay, "drain-delay", 5*time.Second, "after SIGTERM, how long to keep serving while reporting NOT_SERVING, so the mesh stops routing here (default 0 with --sandbox)")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 30*time.Second, "after the drain delay, how long running calls may take to finish before they are cancelled")
	fs.UintVar(&cfg.maxConcurrentStreams, "max-concurrent-streams", 100, "most concurrent calls on one connection")
	fs.IntVar(&cfg.maxRecvMsgBytes, "max-recv-msg-size", 4<<20, "largest message accepted from a client, in bytes")
	fs.Int64Var(&cfg.maxMemoryBytes, "max-memory", defaultMaxMemory(debug.SetMemoryLimit(-1)),
		"most bytes of their data all calls may hold together: uploads' files and request bodies, download ranges, messages (0: no bound); by default GOMEMLIMIT less 48 MiB if GOMEMLIMIT is set, else 256 MiB")
	fs.DurationVar(&cfg.memoryWait, "memory-wait", 10*time.Second, "how long a call waits for room in --max-memory before it gets RESOURCE_EXHAUSTED (within its deadline)")
	fs.DurationVar(&cfg.uploadIdleTimeout, "upload-idle-timeout", 30*time.Second, "end an upload whose client sends no message for this long with DEADLINE_EXCEEDED, releasing what it holds; nothing is committed")
	fs.DurationVar(&cfg.maxConnectionAge, "max-connection-age", 10*time.Minute, "close connections after this long (with a GOAWAY), so that clients spread over new replicas")
	fs.DurationVar(&cfg.maxConnectionAgeGrace, "max-connection-age-grace", 2*time.Minute, "how long calls running on a connection closed for its age may take to finish")
	fs.DurationVar(&cfg.keepaliveTime, "keepalive-time", 2*time.Minute, "ping a client after this long without activity")
	fs.DurationVar(&cfg.keepaliveTimeout, "keepalive-timeout", 20*time.Second, "close the connection when a ping is not answered within this")
	fs.DurationVar(&cfg.keepaliveMinTime, "keepalive-min-time", 10*time.Second, "least time between a client's keepalive pings; more often closes the connection")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM certificate file: serve TLS instead of plaintext h2c (needs --tls-key)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	fs.StringVar(&cfg.tlsClientCA, "tls-client-ca", "", "PEM CA bundle: require client certificates signed by it (mutual TLS; needs --tls-cert)")
	fs.DurationVar(&cfg.requestIDTTL, "request-id-ttl", 24*time.Hour, "how long the outcome of a call with a request_id is kept, so that a repeat gets it")
	fs.IntVar(&cfg.maxRequestIDs, "max-request-ids", 100_000, "most request_ids kept at once; a call with a new one beyond gets RESOURCE_EXHAUSTED")
	fs.IntVar(&cfg.booking.MaxInFlight, "booking-max-in-flight", bookingapi.DefaultMaxInFlight, "most requests in flight to Booking at once, across all calls; the others wait within their deadlines")
	fs.IntVar(&cfg.booking.ParallelRanges, "booking-parallel-ranges", bookingapi.DefaultParallelRanges, "how many range GETs a download keeps in flight (1: one at a time)")
	fs.DurationVar(&cfg.booking.ResponseTimeout, "booking-response-timeout", bookingapi.DefaultResponseTimeout, "how long one attempt waits for Booking's response headers, then as long again for the body, before it counts as lost")
	fs.DurationVar(&cfg.booking.RequestTimeout, "booking-request-timeout", bookingapi.DefaultRequestTimeout, "the most one request to Booking may take with its retries, when the caller's deadline is later or unset; then UNAVAILABLE")
	fs.VisitAll(func(f *flag.Flag) {
		if env, ok := flagEnv[f.Name]; ok {
			f.Usage += " (env " + env + ")"
		}
	})
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if err := applyEnv(fs, getenv); err != nil {
		return cfg, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if cfg.sandbox && !given["drain-delay"] {
		// Nothing routes to a sandbox that a person runs: stop at once.
		cfg.drainDelay = 0
	}
	if cfg.showVersion {
		return cfg, nil
	}
	return cfg, cfg.complete(getenv)
}

// applyEnv sets each flag not given on the command line from its variable.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env, ok := flagEnv[f.Name]
		if !ok || given[f.Name] {
			return
		}
		if v := getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", env, v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// complete reads Booking's settings and checks that the whole is usable.
func (cfg *config) complete(getenv func(string) string) error {
	switch cfg.logFormat {
	case "", "json", "text":
	default:
		return fmt.Errorf("--log-format %q: use json or text", cfg.logFormat)
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if cfg.tlsClientCA != "" && cfg.tlsCert == "" {
		return errors.New("--tls-client-ca needs --tls-cert and --tls-key")
	}
	if cfg.maxConcurrentStreams == 0 || cfg.maxRecvMsgBytes <= 0 {
		return errors.New("--max-concurrent-streams and --max-recv-msg-size must be positive")
	}
	if cfg.maxMemoryBytes < 0 || cfg.memoryWait < 0 {
		return errors.New("--max-memory and --memory-wait must not be negative")
	}
	if cfg.requestIDTTL <= 0 || cfg.maxRequestIDs <= 0 {
		return errors.New("--request-id-ttl and --max-request-ids must be positive")
	}
	if cfg.uploadIdleTimeout <= 0 {
		return errors.New("--upload-idle-timeout must be positive")
	}
	if cfg.booking.MaxInFlight <= 0 || cfg.booking.ParallelRanges <= 0 || cfg.booking.ResponseTimeout <= 0 || cfg.booking.RequestTimeout <= 0 {
		return errors.New("--booking-max-in-flight, --booking-parallel-ranges, --booking-response-timeout and --booking-request-timeout must be positive")
	}
	cfg.booking.BaseURL = getenv("BOOKING_API_URL")
	cfg.booking.AuthURL = getenv("BOOKING_AUTH_URL")
	cfg.booking.ClientID = getenv("BOOKING_CLIENT_ID")
	secret, err := clientSecret(getenv)
	if err != nil {
		return err
	}
	cfg.booking.ClientSecret = secret
	if !cfg.sandbox && (cfg.booking.ClientID == "" || cfg.booking.ClientSecret == "") {
		return errors.New("BOOKING_CLIENT_ID and BOOKING_CLIENT_SECRET (or BOOKING_CLIENT_SECRET_FILE) must be set, or use --sandbox to serve against the built-in sandbox")
	}
	return nil
}

// clientSecret reads BOOKING_CLIENT_SECRET, or the file BOOKING_CLIENT_SECRET_FILE
// names, as Kubernetes mounts Secrets; a trailing newline is not part of it.
func clientSecret(getenv func(string) string) (string, error) {
	secret, file := getenv("BOOKING_CLIENT_SECRET"), getenv("BOOKING_CLIENT_SECRET_FILE")
	switch {
	case secret != "" && file != "":
		return "", errors.New("set BOOKING_CLIENT_SECRET or BOOKING_CLIENT_SECRET_FILE, not both")
	case file == "":
		return secret, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		// The error names the file, never its content.
		return "", fmt.Errorf("BOOKING_CLIENT_SECRET_FILE: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// defaultMaxMemory is --max-memory's default for the Go runtime's memory
// limit (GOMEMLIMIT; math.MaxInt64 when unset): the limit less 48 MiB for
// what calls hold outside the budget (connection buffers, a few free
// buffers, stacks) and for the collector's slack, or half a limit under
// 96 MiB; 256 MiB without a limit. make bench measures the peak resident
// memory this gives.
func defaultMaxMemory(goMemLimit int64) int64 {
	const headroom = 48 << 20
	switch {
	case goMemLimit == math.MaxInt64:
		return 256 << 20
	case goMemLimit < 2*headroom:
		return goMemLimit / 2
	}
	return goMemLimit - headroom
}
