package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/booking-attachment-gateway/gateway/service/client"
)

// defaultAddr is the gateway's address when neither --addr nor
// ATTACHCTL_ADDR gives one: make run's.
const defaultAddr = "localhost:50051"

// session is one command being run: its flags, its streams, and the
// connection to the gateway.
type session struct {
	ctx    context.Context
	name   string
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	flags  *flag.FlagSet

	// The flags every command takes.
	addr              string
	timeout           time.Duration
	useTLS            bool
	caCert, cert, key string
	jsonOut, quiet    bool
	propertyID        int64
	conversationID    string

	positional      []string // the command's arguments
	positionalNames string   // for the usage line, such as "FILE "
	wantPositional  int
	closeConn       func()
}

// usageError is a mistake in the command line: exit status 2, with usage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func badUsage(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// newFlags returns the command's flag set with the flags every command
// takes. positional names the arguments the command takes, want their
// number.
func (s *session) newFlags(positional string, want int) *flag.FlagSet {
	fs := flag.NewFlagSet("attachctl "+s.name, flag.ContinueOnError)
	fs.SetOutput(s.stderr)
	s.flags, s.positionalNames, s.wantPositional = fs, positional, want
	fs.Usage = func() {
		fmt.Fprintf(s.stderr, "Usage: attachctl %s %s[FLAGS]\n\nFlags:\n", s.name, positional)
		fs.PrintDefaults()
	}
	fs.StringVar(&s.addr, "addr", "", "the gateway's address, host:port or unix:///path (default $ATTACHCTL_ADDR, else "+defaultAddr+")")
	fs.DurationVar(&s.timeout, "timeout", 0, "the most the call may take, such as 30s (default: no limit)")
	fs.BoolVar(&s.useTLS, "tls", false, "connect with TLS, trusting the system's certificate authorities")
	fs.StringVar(&s.caCert, "cacert", "", "PEM file of the certificate authorities to trust (implies --tls)")
	fs.StringVar(&s.cert, "cert", "", "PEM client certificate, for mutual TLS (implies --tls; needs --key)")
	fs.StringVar(&s.key, "key", "", "PEM private key of --cert")
	fs.BoolVar(&s.jsonOut, "json", false, "print the response as JSON")
	fs.BoolVar(&s.quiet, "quiet", false, "no progress bar")
	fs.Int64Var(&s.propertyID, "property", 0, "the Booking.com property id (required)")
	fs.StringVar(&s.conversationID, "conversation", "", "the guest conversation id (required)")
	return fs
}

// parse reads args into the flag set, flags and arguments in any order,
// and checks the arguments.
func (s *session) parse(args []string) error {
	for {
		if err := s.flags.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err}
		}
		args = s.flags.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			s.positional = append(s.positional, args[1:]...)
			break
		}
		s.positional = append(s.positional, args[0])
		args = args[1:]
	}
	switch {
	case len(s.positional) != s.wantPositional:
		return badUsage("want %s, got %d arguments", strings.TrimSpace(s.positionalNames), len(s.positional))
	case s.propertyID <= 0:
		return badUsage("--property is required (a positive Booking.com property id)")
	case s.conversationID == "":
		return badUsage("--conversation is required")
	case (s.cert == "") != (s.key == ""):
		return badUsage("--cert and --key go together")
	}
	return nil
}

// connect dials the gateway and returns a client of it, and the context of
// the call, bounded by --timeout.
func (s *session) connect() (*client.Client, context.Context, error) {
	addr := s.addr
	if addr == "" {
		addr = s.getenv("ATTACHCTL_ADDR")
	}
	if addr == "" {
		addr = defaultAddr
	}
	creds, err := s.credentials()
	if err != nil {
		return nil, nil, err
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, nil, badUsage("--addr %q: %v", addr, err)
	}
	ctx, cancel := s.ctx, context.CancelFunc(func() {})
	if s.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
	}
	s.closeConn = func() {
		cancel()
		conn.Close()
	}
	return client.New(conn), ctx, nil
}

// close ends the connection.
func (s *session) close() {
	if s.closeConn != nil {
		s.closeConn()
	}
}

// credentials are plaintext, or TLS with --tls, --cacert or --cert.
func (s *session) credentials() (credentials.TransportCredentials, error) {
	if !s.useTLS && s.caCert == "" && s.cert == "" {
		return insecure.NewCredentials(), nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.caCert != "" {
		pem, err := os.ReadFile(s.caCert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s holds no PEM certificate", s.caCert)
		}
	}
	if s.cert != "" {
		pair, err := tls.LoadX509KeyPair(s.cert, s.key)
		if err != nil {
			return nil, fmt.Errorf("--cert and --key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return credentials.NewTLS(cfg), nil
}

func (s *session) conversation() client.Conversation {
	return client.Conversation{PropertyID: s.propertyID, ConversationID: s.conversationID}
}

func (s *session) ref(attachmentID string) client.Ref {
	return client.Ref{PropertyID: s.propertyID, ConversationID: s.conversationID, AttachmentID: attachmentID}
}
