package main

import (
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	creds := map[string]string{"BOOKING_CLIENT_ID": "id", "BOOKING_CLIENT_SECRET": "secret"}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(config) bool
		wantErr string
	}{
		{name: "defaults", env: creds, check: func(c config) bool {
			return c.listen == ":50051" && c.metricsListen == ":9090" && !c.sandbox && c.logFormat == "" &&
				c.drainDelay == 5*time.Second && c.shutdownTimeout == 30*time.Second &&
				c.maxConcurrentStreams == 100 && c.maxRecvMsgBytes == 4<<20 && c.maxMemoryBytes == defaultMaxMemory(debug.SetMemoryLimit(-1)) && c.memoryWait == 10*time.Second && c.booking.ParallelRanges == 4 &&
				c.uploadIdleTimeout == 30*time.Second && c.maxConnectionAge == 10*time.Minute && c.maxConnectionAgeGrace == 2*time.Minute &&
				c.keepaliveTime == 2*time.Minute && c.keepaliveTimeout == 20*time.Second && c.keepaliveMinTime == 10*time.Second &&
				c.booking.MaxInFlight == 32 && c.booking.ResponseTimeout == 15*time.Second && c.booking.RequestTimeout == 45*time.Second &&
				c.requestIDTTL == 24*time.Hour && c.maxRequestIDs == 100_000
		}},
		{name: "every setting from the environment", env: with(creds, map[string]string{
			"ATTACHMENTD_LISTEN": "unix:///run/a.sock", "ATTACHMENTD_METRICS_LISTEN": ":9999", "ATTACHMENTD_LOG_FORMAT": "text",
			"ATTACHMENTD_DRAIN_DELAY": "1s", "ATTACHMENTD_SHUTDOWN_TIMEOUT": "2s", "ATTACHMENTD_MAX_CONCURRENT_STREAMS": "7",
			"ATTACHMENTD_MAX_RECV_MSG_SIZE": "1024", "ATTACHMENTD_MAX_MEMORY": "0", "ATTACHMENTD_MEMORY_WAIT": "3s", "ATTACHMENTD_BOOKING_PARALLEL_RANGES": "2", "ATTACHMENTD_UPLOAD_IDLE_TIMEOUT": "45s", "ATTACHMENTD_MAX_CONNECTION_AGE": "3m", "ATTACHMENTD_MAX_CONNECTION_AGE_GRACE": "4m",
			"ATTACHMENTD_KEEPALIVE_TIME": "5m", "ATTACHMENTD_KEEPALIVE_TIMEOUT": "6s", "ATTACHMENTD_KEEPALIVE_MIN_TIME": "7s",
			"ATTACHMENTD_BOOKING_MAX_IN_FLIGHT": "8", "ATTACHMENTD_BOOKING_RESPONSE_TIMEOUT": "9s", "ATTACHMENTD_BOOKING_REQUEST_TIMEOUT": "10s",
			"ATTACHMENTD_REQUEST_ID_TTL": "1h", "ATTACHMENTD_MAX_REQUEST_IDS": "12",
		}), check: func(c config) bool {
			return c.listen == "unix:///run/a.sock" && c.metricsListen == ":9999" && c.logFormat == "text" &&
				c.drainDelay == time.Second && c.shutdownTimeout == 2*time.Second && c.maxConcurrentStreams == 7 &&
				c.maxRecvMsgBytes == 1024 && c.maxMemoryBytes == 0 && c.memoryWait == 3*time.Second && c.booking.ParallelRanges == 2 && c.uploadIdleTimeout == 45*time.Second && c.maxConnectionAge == 3*time.Minute && c.maxConnectionAgeGrace == 4*time.Minute &&
				c.keepaliveTime == 5*time.Minute && c.keepaliveTimeout == 6*time.Second && c.keepaliveMinTime == 7*time.Second &&
				c.booking.MaxInFlight == 8 && c.booking.ResponseTimeout == 9*time.Second && c.booking.RequestTimeout == 10*time.Second &&
				c.requestIDTTL == time.Hour && c.maxRequestIDs == 12
		}},
		{name: "flag wins over the environment", args: []string{"--listen", ":9000", "--drain-delay", "0s"},
			env:   with(creds, map[string]string{"ATTACHMENTD_LISTEN": ":7000", "ATTACHMENTD_DRAIN_DELAY": "9s"}),
			check: func(c config) bool { return c.listen == ":9000" && c.drainDelay == 0 }},
		{name: "sandbox from the environment needs no credentials", env: map[string]string{"ATTACHMENTD_SANDBOX": "true"},
			check: func(c config) bool { return c.sandbox }},
		{name: "sandbox stops at once", args: []string{"--sandbox"}, check: func(c config) bool { return c.drainDelay == 0 }},
		{name: "sandbox with a drain delay of its own", args: []string{"--sandbox"}, env: map[string]string{"ATTACHMENTD_DRAIN_DELAY": "2s"},
			check: func(c config) bool { return c.drainDelay == 2*time.Second }},
		{name: "sandbox flag false wins over the environment", args: []string{"--sandbox=false"},
			env: with(creds, map[string]string{"ATTACHMENTD_SANDBOX": "true"}), check: func(c config) bool { return !c.sandbox }},
		{name: "version needs nothing else", args: []string{"--version"}, check: func(c config) bool { return c.showVersion }},
		{name: "no credentials", wantErr: "BOOKING_CLIENT_ID and BOOKING_CLIENT_SECRET"},
		{name: "only the id", env: map[string]string{"BOOKING_CLIENT_ID": "id"}, wantErr: "BOOKING_CLIENT_SECRET"},
		{name: "secret and secret file", env: with(creds, map[string]string{"BOOKING_CLIENT_SECRET_FILE": "/x"}), wantErr: "not both"},
		{name: "missing secret file", env: map[string]string{"BOOKING_CLIENT_ID": "id", "BOOKING_CLIENT_SECRET_FILE": "/no/such/file"}, wantErr: "BOOKING_CLIENT_SECRET_FILE"},
		{name: "variable not a boolean", env: map[string]string{"ATTACHMENTD_SANDBOX": "yes please"}, wantErr: "ATTACHMENTD_SANDBOX"},
		{name: "variable not a duration", env: with(creds, map[string]string{"ATTACHMENTD_DRAIN_DELAY": "soon"}), wantErr: "ATTACHMENTD_DRAIN_DELAY"},
		{name: "unknown log format", args: []string{"--log-format", "xml"}, env: creds, wantErr: "json or text"},
		{name: "certificate without key", args: []string{"--tls-cert", "c.pem"}, env: creds, wantErr: "--tls-key"},
		{name: "client CA without certificate", args: []string{"--tls-client-ca", "ca.pem"}, env: creds, wantErr: "--tls-cert"},
		{name: "no streams", args: []string{"--max-concurrent-streams", "0"}, env: creds, wantErr: "positive"},
		{name: "no requests to Booking", args: []string{"--booking-max-in-flight", "0"}, env: creds, wantErr: "must be positive"},
		{name: "no time for Booking", args: []string{"--booking-request-timeout", "0s"}, env: creds, wantErr: "must be positive"},
		{name: "no request_ids", args: []string{"--max-request-ids", "0"}, env: creds, wantErr: "--max-request-ids must be positive"},
		{name: "negative memory", args: []string{"--max-memory", "-1"}, env: creds, wantErr: "negative"},
		{name: "no parallel ranges", args: []string{"--booking-parallel-ranges", "0"}, env: creds, wantErr: "must be positive"},
		{name: "no upload idle timeout", args: []string{"--upload-idle-timeout", "0s"}, env: creds, wantErr: "--upload-idle-timeout must be positive"},
		{name: "unknown flag", args: []string{"--nope"}, env: creds, wantErr: "nope"},
		{name: "stray argument", args: []string{"serve"}, env: creds, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseConfig(%q) error = %v, want one mentioning %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConfig(%q): %v", tt.args, err)
			}
			if !tt.check(cfg) {
				t.Errorf("parseConfig(%q) = %+v", tt.args, cfg)
			}
		})
	}
}

func TestBookingSettingsFromTheEnvironment(t *testing.T) {
	env := map[string]string{
		"BOOKING_API_URL":       "https://api.example",
		"BOOKING_AUTH_URL":      "https://auth.example/exchange",
		"BOOKING_CLIENT_ID":     "id",
		"BOOKING_CLIENT_SECRET": "secret",
	}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.booking
	if b.BaseURL != env["BOOKING_API_URL"] || b.AuthURL != env["BOOKING_AUTH_URL"] || b.ClientID != "id" || b.ClientSecret != "secret" {
		t.Errorf("booking config = %+v, want the variables' values", b)
	}
}

// A secret mounted as a file, as Kubernetes does, without its newline.
func TestClientSecretFromAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(file, []byte("from-the-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BOOKING_CLIENT_ID": "id", "BOOKING_CLIENT_SECRET_FILE": file}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.booking.ClientSecret != "from-the-file" {
		t.Errorf("secret = %q, want the file's content without its newline", cfg.booking.ClientSecret)
	}
}

// with returns a copy of m with the pairs of add set.
func with(m, add map[string]string) map[string]string {
	out := maps.Clone(m)
	maps.Copy(out, add)
	return out
}

// The memory budget follows GOMEMLIMIT, as the container's memory limit sets
// it, leaving 48 MiB for the rest of the process.
func TestDefaultMaxMemory(t *testing.T) {
	for _, tt := range []struct{ limit, want int64 }{
		{math.MaxInt64, 256 << 20},
		{460 << 20, 412 << 20},
		{128 << 20, 80 << 20},
		{90 << 20, 45 << 20},
	} {
		if got := defaultMaxMemory(tt.limit); got != tt.want {
			t.Errorf("defaultMaxMemory(%d) = %d, want %d", tt.limit, got, tt.want)
		}
	}
}
