package main

import (
	"bytes"
	"encoding/json"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/booking-attachment-gateway/gateway/service/client"
)

// Exit statuses. A call the gateway fails exits with exitCallBase plus its
// gRPC code, so that a script can tell NOT_FOUND (15) from UNAVAILABLE (24)
// without reading the message.
const (
	exitLocal    = 1  // a failure on this side: a file that cannot be read or written
	exitUsage    = 2  // a mistake in the command line
	exitCallBase = 10 // + the gRPC code of a failed call
)

// exitStatus is the exit status of a command that failed with err.
func exitStatus(err error) int {
	var e *client.Error
	if errors.As(err, &e) && e.Code != codes.OK {
		return exitCallBase + int(e.Code)
	}
	return exitLocal
}

// errorLine is err in one line for the error stream: the gRPC code, the
// message and Booking's ruid.
func errorLine(err error) string {
	return client.Line(err)
}

// printJSON writes m to standard output as one line of JSON, with the
// field names of the contract.
func (s *session) printJSON(m proto.Message) error {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return err
	}
	// protojson varies its spacing on purpose; a line of output should not.
	var line bytes.Buffer
	if err := json.Compact(&line, b); err != nil {
		return err
	}
	line.WriteByte('\n')
	_, err = s.stdout.Write(line.Bytes())
	return err
}
