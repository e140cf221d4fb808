// Command attachctl uploads images into Booking.com guest conversations,
// delivers them to the guest, and downloads attachments, through the
// attachment gateway (attachmentd):
//
//	attachctl upload FILE --property ID --conversation ID [--message TEXT]
//	attachctl download ATTACHMENT_ID -o FILE --property ID --conversation ID
//	attachctl info ATTACHMENT_ID --property ID --conversation ID
//	attachctl send --text TEXT [--attachment ID]... --property ID --conversation ID
//
// It prints the result alone on standard output, so that it composes in
// pipes; a progress bar and errors go to standard error. Its exit status
// says why a call failed: see exitStatus.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	status := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(status)
}

// usage is the text of attachctl -h, before a command's flags.
const usage = `Usage: attachctl COMMAND [ARGUMENTS] [FLAGS]

Commands:
  upload FILE           upload FILE (- for standard input); prints the attachment id,
                        and the message id with --message
  download ID -o FILE   download an attachment into FILE (- for standard output)
  info ID               print an attachment's name, type and size
  send --text TEXT      post a message to the guest, with --attachment ID...; prints its id

Every command takes --property and --conversation, and the flags of the
connection: --addr (or ATTACHCTL_ADDR), --timeout, --tls, --cacert, --cert,
--key; and --json, --quiet. "attachctl COMMAND -h" lists them.
`

// commands are attachctl's commands by name.
var commands = map[string]func(*session, []string) error{
	"upload":   upload,
	"download": download,
	"info":     info,
	"send":     send,
}

// run runs one command and returns the process's exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	command, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "attachctl: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	s := &session{ctx: ctx, name: args[0], getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	err := command(s, args[1:])
	var bad usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &bad):
		fmt.Fprintf(stderr, "attachctl %s: %v\n", s.name, bad.err)
		if s.flags != nil {
			s.flags.Usage()
		}
		return exitUsage
	}
	fmt.Fprintln(stderr, "attachctl:", errorLine(err))
	return exitStatus(err)
}
