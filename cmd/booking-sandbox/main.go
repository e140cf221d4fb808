// Command booking-sandbox serves the strict sandbox of Booking.com's API
// (package bookingapi/sandbox) as a server of its own, so that gateways in
// other processes, and clients not written in Go, can be tested against
// it. Nothing it does reaches Booking.
//
//	go run ./cmd/booking-sandbox --megabyte 1048576 --inclusive-to
//
// At start it prints one block to stdout: the base URL, the token exchange
// URL, the test credentials (printed on purpose: they open this sandbox
// and nothing else), and the variables that point attachmentd at it, each
// on a line beginning with "export " for scripts to source. SIGTERM or
// SIGINT stops it: running requests have --shutdown-timeout to finish,
// then it exits 0. A bad command line exits 2 with the usage; a failure to
// listen exits 1.
//
// Booking's endpoints are served as package sandbox documents them, each
// answer after --latency. Every client on every connection shares one
// sandbox: tokens, attachments, messages, faults and the request log.
// Several gateway processes may use it at once; a fault fires on the Nth
// matching request whoever sends it.
//
// # Flags
//
//	--listen host:port       listen address (default 127.0.0.1:8081; env BOOKING_SANDBOX_LISTEN)
//	--megabyte n             what "1MB" is, in bytes: 1000000 (default) or 1048576, or any positive value up to 2^30
//	--inclusive-to           read download's to as inclusive; exclusive by default
//	--boolean-ok             send data.ok as true, not "true"
//	--token-ttl d            how long a token is accepted (default 1h)
//	--max-stored-bytes n     most bytes stored before 507 (default 536870912)
//	--latency d              delay before each answer of Booking's endpoints (default 0)
//	--client-id s            accepted client_id (default sandbox-client)
//	--client-secret s        accepted client_secret (default sandbox-secret)
//	--deny-property id       a property whose calls get 403; repeatable
//	--shutdown-timeout d     how long running requests may finish at shutdown (default 5s)
//
// # Control API
//
// Under /_sandbox/, a prefix none of Booking's paths has, on the same
// listener, answered at once (--latency does not apply). Answers are JSON
// on one line, errors {"error": "what was wrong"} with 400 for bad input
// (unknown fields, endpoints or query parameters included), 404 for an
// unknown path or attachment, 405 for another method.
//
//	GET    /_sandbox/healthz        {"status": "ok"}
//	POST   /_sandbox/faults         inject one fault (body below); 201 with the fault as it will act
//	DELETE /_sandbox/faults         forget every fault; 204
//	GET    /_sandbox/requests       {"pending": n, "requests": [request...]}; ?endpoint=NAME, repeatable, keeps those endpoints
//	GET    /_sandbox/messages?property_id=P&conversation_id=C
//	                                {"messages": [{"message_id", "content", "attachment_ids": []}]}, what the guest sees
//	GET    /_sandbox/attachments?property_id=P&conversation_id=C
//	                                {"attachment_ids": [...]}, sorted
//	GET    /_sandbox/attachments/{property_id}/{conversation_id}/{attachment_id}
//	                                the file's bytes, Content-Type its type
//	POST   /_sandbox/revoke-tokens  every token issued so far gets 401 from now on; 204
//
// A fault is sandbox.Fault without Alter, as one JSON object; member names
// are case-sensitive, each may appear once, and only endpoint is required:
//
//	{"endpoint": "upload",   // token, upload, chunks, download, file_info or messages
//	 "action": "finish",     // chunks only: start, resume or finish; absent matches any
//	 "nth": 1, "times": 1,   // fire on the nth matching request from now, times in a row (0 means 1)
//	 "processed": false,     // handle the request first, then misbehave on its answer
//	 "delay": "1.5s",        // a Go duration: wait before the rest
//	 "hang": false,          // never answer
//	 "drop": false,          // close the connection without answering
//	 "status": 503,          // answer this error status (400 to 599) instead
//	 "html": false,          // with status: an HTML page, as a load balancer sends
//	 "retry_after": "30",    // with status: the Retry-After header
//	 "pad_bytes": 0,         // append this many spaces to the body (at most 64 MiB)
//	 "cut_after": 0}         // send only this many bytes of the body, then close
//
// A fault that would do nothing, or has a field that cannot act (html or
// retry_after without status; status, pad_bytes or cut_after with hang or
// drop; hang with drop), is refused. A request in the log is sandbox.Request:
//
//	{"endpoint": "chunks", "action": "start", "chunk_number": 0, "upload_id": "",
//	 "decoded_bytes": 1000000, "file_size": 2500000, "query": null, "attachment_ids": null,
//	 "processed": true, "status": 200, "ruid": "..."}
//
// For example:
//
//	curl -s -X POST 127.0.0.1:8081/_sandbox/faults -d '{"endpoint": "file_info", "status": 503, "times": 3}'
//	curl -s '127.0.0.1:8081/_sandbox/requests?endpoint=file_info'
//	curl -s -X DELETE 127.0.0.1:8081/_sandbox/faults
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		os.Exit(2) // the flag package has said what is wrong, with the usage
	default:
		fmt.Fprintln(os.Stderr, "booking-sandbox:", err)
		os.Exit(1)
	}
}

// run serves the sandbox configured by args until ctx ends, then shuts
// down gracefully and returns nil. It returns a usageError for a bad
// command line, flag.ErrHelp for -h, and other errors when it cannot
// listen.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := printBanner(stdout, baseURL(lis.Addr()), cfg); err != nil {
		lis.Close()
		return fmt.Errorf("printing the start-up block: %w", err)
	}
	return serve(ctx, newHandler(sandbox.New(cfg.opts), cfg.latency), lis, cfg.shutdownTimeout, stderr)
}
