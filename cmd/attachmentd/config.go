package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
)

// config is the server's configuration, from flags and environment
// variables; a flag wins over its variable.
type config struct {
	// listen is the gRPC listen address.
	listen string
	// sandbox serves against the in-process Booking sandbox.
	sandbox bool
	// shutdownTimeout bounds how long running calls may take to finish
	// after SIGTERM or SIGINT before the server stops them.
	shutdownTimeout time.Duration
	// booking configures the Booking client; unused with sandbox.
	booking bookingapi.Config
}

// parseConfig reads the flags in args and the variables through getenv.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	cfg := config{
		listen:          ":50051",
		shutdownTimeout: 30 * time.Second,
		booking: bookingapi.Config{
			BaseURL:      getenv("BOOKING_API_URL"),
			AuthURL:      getenv("BOOKING_AUTH_URL"),
			ClientID:     getenv("BOOKING_CLIENT_ID"),
			ClientSecret: getenv("BOOKING_CLIENT_SECRET"),
		},
	}
	if v := getenv("ATTACHMENTD_LISTEN"); v != "" {
		cfg.listen = v
	}
	if v := getenv("ATTACHMENTD_SANDBOX"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("ATTACHMENTD_SANDBOX=%q is not a boolean", v)
		}
		cfg.sandbox = b
	}

	fs := flag.NewFlagSet("attachmentd", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() {
		fmt.Fprintf(usage, "Usage: attachmentd [flags]\n\n"+
			"Serves attachments.v1.AttachmentService over gRPC, calling Booking.com's Messaging API.\n"+
			"Booking is configured with BOOKING_API_URL, BOOKING_AUTH_URL, BOOKING_CLIENT_ID and\n"+
			"BOOKING_CLIENT_SECRET, unless --sandbox is given.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.listen, "listen", cfg.listen, "gRPC listen address (env ATTACHMENTD_LISTEN)")
	fs.BoolVar(&cfg.sandbox, "sandbox", cfg.sandbox, "serve against the built-in sandbox of Booking's API; no credentials needed (env ATTACHMENTD_SANDBOX)")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", cfg.shutdownTimeout, "how long running calls may take to finish after SIGTERM")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if !cfg.sandbox && (cfg.booking.ClientID == "" || cfg.booking.ClientSecret == "") {
		return cfg, errors.New("BOOKING_CLIENT_ID and BOOKING_CLIENT_SECRET must be set (or use --sandbox to serve against the built-in sandbox)")
	}
	return cfg, nil
}
