package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
)

// Each setting reaches the sandbox: a client sees the difference it makes
// against the defaults.
func TestFlagsReachTheSandbox(t *testing.T) {
	tests := []struct {
		name string
		args []string
		// check is given a sandbox started with args, and one started with
		// the defaults for contrast.
		check func(t *testing.T, inst, defaults *instance)
	}{
		{"--megabyte refuses a single upload over it", []string{"--megabyte", "1000"}, func(t *testing.T, inst, defaults *instance) {
			upload(t, defaults.booking(t), conv, pngBytes(1500))
			_, err := uploadErr(inst.booking(t), conv, pngBytes(1500))
			var berr *bookingapi.Error
			if !errors.As(err, &berr) || berr.Kind != bookingapi.KindInvalidRequest || !strings.Contains(berr.Message, "1MB (1000 bytes)") {
				t.Errorf("upload of 1500 bytes with --megabyte 1000: %v, want Booking's 400 naming 1MB as 1000 bytes", err)
			}
		}},
		{"--inclusive-to includes the byte at to", []string{"--inclusive-to"}, func(t *testing.T, inst, defaults *instance) {
			for _, tt := range []struct {
				inst *instance
				want int
			}{{defaults, 4}, {inst, 5}} {
				content := pngBytes(10)
				id := upload(t, tt.inst.booking(t), conv, content)
				r := tt.inst.send(t, http.MethodGet, downloadPath(id)+"?from=0&to=4", "", tt.inst.token(t))
				var d struct {
					FileContent []byte `json:"file_content"`
				}
				if err := json.Unmarshal(decodeEnvelope(t, r).Data, &d); err != nil || len(d.FileContent) != tt.want {
					t.Errorf("download from=0&to=4: %d bytes (%s), want %d", len(d.FileContent), r.body, tt.want)
				}
			}
		}},
		{"--boolean-ok sends ok as a boolean", []string{"--boolean-ok"}, func(t *testing.T, inst, defaults *instance) {
			for _, tt := range []struct {
				inst *instance
				want string
			}{{defaults, `"true"`}, {inst, `true`}} {
				r := tt.inst.send(t, http.MethodPost, uploadPath, uploadBody(pngBytes(10)), tt.inst.token(t))
				var d struct{ OK json.RawMessage }
				if err := json.Unmarshal(decodeEnvelope(t, r).Data, &d); err != nil || string(d.OK) != tt.want {
					t.Errorf("upload's data.ok = %s (%s), want %s", d.OK, r.body, tt.want)
				}
			}
		}},
		{"--token-ttl expires tokens", []string{"--token-ttl", "1ns"}, func(t *testing.T, inst, defaults *instance) {
			id := upload(t, defaults.booking(t), conv, pngBytes(10))
			if r := defaults.send(t, http.MethodGet, fileInfoPath(id), "", defaults.token(t)); r.status != http.StatusOK {
				t.Errorf("file_info with a default token: %d %s", r.status, r.body)
			}
			r := inst.send(t, http.MethodGet, fileInfoPath("x"), "", inst.token(t))
			wantBookingError(t, r, http.StatusUnauthorized, "expired")
		}},
		{"--max-stored-bytes refuses what does not fit", []string{"--max-stored-bytes", "100"}, func(t *testing.T, inst, defaults *instance) {
			upload(t, defaults.booking(t), conv, pngBytes(150))
			r := inst.send(t, http.MethodPost, uploadPath, uploadBody(pngBytes(150)), inst.token(t))
			wantBookingError(t, r, http.StatusInsufficientStorage, "MaxStoredBytes, 100 bytes")
		}},
		{"--client-id and --client-secret replace the credentials", []string{"--client-id", "ci", "--client-secret", "s3"}, func(t *testing.T, inst, defaults *instance) {
			body := fmt.Sprintf(`{"client_id": %q, "client_secret": %q}`, defaults.env["BOOKING_CLIENT_ID"], defaults.env["BOOKING_CLIENT_SECRET"])
			wantBookingError(t, inst.send(t, http.MethodPost, tokenPath, body, ""), http.StatusUnauthorized, "client_id or client_secret is wrong")
			if err := inst.booking(t).Authenticate(context.Background()); err != nil {
				t.Errorf("the gateway's client with the printed credentials: %v", err)
			}
		}},
		{"--deny-property, repeated, denies each", []string{"--deny-property", "77", "--deny-property", "88"}, func(t *testing.T, inst, defaults *instance) {
			token := inst.token(t)
			for _, p := range []string{"77", "88"} {
				r := inst.send(t, http.MethodGet, "/messaging/properties/"+p+"/conversations/c/attachments/x/file_info", "", token)
				wantBookingError(t, r, http.StatusForbidden, "doesn't have access to this property")
			}
			r := inst.send(t, http.MethodGet, "/messaging/properties/99/conversations/c/attachments/x/file_info", "", token)
			wantBookingError(t, r, http.StatusNotFound, "not found")
		}},
	}
	defaults := start(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, start(t, tt.args...), defaults)
		})
	}
}

// --latency delays Booking's answers by at least the latency, and not the
// control API's.
func TestLatency(t *testing.T) {
	const latency = 300 * time.Millisecond
	inst := start(t, "--latency", latency.String())
	begin := time.Now()
	inst.token(t)
	if took := time.Since(begin); took < latency {
		t.Errorf("the token exchange took %v, want at least the latency %v", took, latency)
	}

	// With an hour of latency, a Booking request waits, while the control
	// API answers.
	slow := start(t, "--latency", "1h")
	client := newHTTPClient(t, true)
	client.Timeout = 200 * time.Millisecond
	if r, err := slow.try(client, http.MethodGet, fileInfoPath("x"), "", ""); err == nil {
		t.Errorf("with --latency 1h, file_info answered %d %s", r.status, r.body)
	}
	slow.control(t, http.MethodGet, "/_sandbox/healthz", "", http.StatusOK, nil)
	if got := slow.requests(t).Requests; len(got) != 0 {
		t.Errorf("the request given up during the latency is logged: %+v", got)
	}
}

func TestBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in what is written to stderr, besides the usage
	}{
		{"unknown flag", []string{"--nope"}, "flag provided but not defined: -nope"},
		{"megabyte zero", []string{"--megabyte", "0"}, `invalid value "0" for flag -megabyte: must be from 1 to 1073741824`},
		{"megabyte negative", []string{"--megabyte", "-5"}, "must be from 1"},
		{"megabyte too large", []string{"--megabyte", "1073741825"}, "must be from 1 to 1073741824"},
		{"megabyte not a number", []string{"--megabyte", "1MB"}, `invalid value "1MB" for flag -megabyte: not a decimal integer`},
		{"token-ttl zero", []string{"--token-ttl", "0s"}, `invalid value "0s" for flag -token-ttl: must be positive`},
		{"token-ttl not a duration", []string{"--token-ttl", "60"}, "not a duration"},
		{"latency negative", []string{"--latency", "-1ms"}, `invalid value "-1ms" for flag -latency: must not be negative`},
		{"max-stored-bytes zero", []string{"--max-stored-bytes", "0"}, "flag -max-stored-bytes: must be from 1"},
		{"empty client id", []string{"--client-id", ""}, `invalid value "" for flag -client-id: must not be empty`},
		{"empty client secret", []string{"--client-secret="}, "flag -client-secret: must not be empty"},
		{"deny-property zero", []string{"--deny-property", "0"}, `property_id "0" is not a positive decimal integer`},
		{"deny-property leading zero", []string{"--deny-property", "012"}, `property_id "012"`},
		{"deny-property sign", []string{"--deny-property", "+12"}, `property_id "+12"`},
		{"inclusive-to with a value", []string{"--inclusive-to=maybe"}, "invalid boolean value"},
		{"shutdown-timeout negative", []string{"--shutdown-timeout", "-1s"}, "must not be negative"},
		{"an argument", []string{"serve"}, `unexpected arguments: ["serve"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr := &buffer{}, &buffer{}
			err := run(context.Background(), append([]string{"--listen", "127.0.0.1:0"}, tt.args...), func(string) string { return "" }, stdout, stderr)
			if !errors.As(err, new(usageError)) {
				t.Errorf("run(%q) = %v, want a usage error (exit 2)", tt.args, err)
			}
			if got := stderr.String(); !strings.Contains(got, tt.want) || !strings.Contains(got, "Usage: booking-sandbox [flags]") {
				t.Errorf("stderr %q, want %q and the usage", got, tt.want)
			}
			if got := stdout.String(); got != "" {
				t.Errorf("stdout %q, want nothing", got)
			}
		})
	}
	t.Run("-h", func(t *testing.T) {
		stderr := &buffer{}
		err := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &buffer{}, stderr)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "-deny-property") {
			t.Errorf("run(-h) = %v with %q, want flag.ErrHelp (exit 0) and the usage", err, stderr)
		}
	})
}
