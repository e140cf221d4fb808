package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// Defaults of the flags that are not the sandbox's own.
const (
	defaultListen          = "127.0.0.1:8081"
	defaultShutdownTimeout = 5 * time.Second

	// listenEnv is the variable read when --listen is not given.
	listenEnv = "BOOKING_SANDBOX_LISTEN"

	// maxMegabyteBytes bounds --megabyte. No request body may exceed 32
	// MiB, so a larger "1MB" changes nothing a client can send, and the
	// sandbox's 10MB limit must not overflow.
	maxMegabyteBytes = 1 << 30
)

// config is the command's configuration, from flags and the one variable.
type config struct {
	listen          string // host:port
	latency         time.Duration
	shutdownTimeout time.Duration
	opts            sandbox.Options // every field set: no zero value left to a default
}

// usageError is a bad command line: its message and the usage have been
// written to the usage writer already. main exits 2 on it.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// parseConfig reads the flags in args and, for --listen, the variable
// through getenv. It writes what is wrong and the usage to usage; -h
// writes the usage and returns flag.ErrHelp.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	cfg := config{
		listen:          defaultListen,
		shutdownTimeout: defaultShutdownTimeout,
		opts: sandbox.Options{
			MegabyteBytes:  1_000_000,
			MaxStoredBytes: 512 << 20,
			ClientID:       sandbox.DefaultClientID,
			ClientSecret:   sandbox.DefaultClientSecret,
			TokenTTL:       time.Hour,
		},
	}
	if v := getenv(listenEnv); v != "" {
		cfg.listen = v
	}
	fs := flag.NewFlagSet("booking-sandbox", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() {
		fmt.Fprint(usage, "Usage: booking-sandbox [flags]\n\n"+
			"Serves a strict emulation of Booking.com's token exchange, the Messaging API's attachment\n"+
			"endpoints and its message post, for tests, with a control API under /_sandbox/.\n"+
			"It prints the variables that point attachmentd at it. Nothing reaches Booking.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.listen, "listen", cfg.listen, "`host:port` to listen on (env "+listenEnv+")")
	fs.Var(int64Value{&cfg.opts.MegabyteBytes, 1, maxMegabyteBytes}, "megabyte",
		"what Booking's \"1MB\" is, in `bytes`: 1000000 or 1048576, or any other positive value to test with small files")
	fs.BoolVar(&cfg.opts.InclusiveTo, "inclusive-to", false, "read download's to as inclusive (bytes from..to); by default it is exclusive (from..to-1)")
	fs.BoolVar(&cfg.opts.BooleanOK, "boolean-ok", false, "send data.ok as the JSON boolean true; by default it is the string \"true\", as in Booking's examples")
	fs.Var(durationValue{&cfg.opts.TokenTTL, time.Nanosecond}, "token-ttl", "how long an issued token is accepted, a `duration`")
	fs.Var(int64Value{&cfg.opts.MaxStoredBytes, 1, 1<<63 - 1}, "max-stored-bytes",
		"most decoded `bytes` of attachments and unfinished uploads held; beyond, requests get 507")
	fs.Var(durationValue{&cfg.latency, 0}, "latency", "`duration` to wait before every answer of Booking's endpoints (not of the control API)")
	fs.Var(stringValue{&cfg.opts.ClientID}, "client-id", "the client_id the token exchange accepts, an `id`")
	fs.Var(stringValue{&cfg.opts.ClientSecret}, "client-secret", "the client_secret the token exchange accepts, a test `secret`: it is printed at start")
	fs.Var(&propertiesValue{&cfg.opts.DeniedPropertyIDs}, "deny-property",
		"a `property_id` whose every messaging call gets 403; repeat for more")
	fs.Var(durationValue{&cfg.shutdownTimeout, 0}, "shutdown-timeout",
		"on SIGTERM or SIGINT, the `duration` running requests have to finish before their connections are closed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, usageError{err}
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments: %q", fs.Args())
		fmt.Fprintln(usage, err)
		fs.Usage()
		return cfg, usageError{err}
	}
	return cfg, nil
}
