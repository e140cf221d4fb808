// Package client is a Go client of the attachment gateway's
// attachments.v1.AttachmentService, for callers' code: it uploads from an
// io.Reader (cut into messages, with the size and SHA-256 declared when it
// can learn them), downloads to an io.Writer, reads an attachment's info
// and posts messages, and reports progress as bytes move.
//
// It speaks gRPC to the gateway, not JSON to Booking: give New a
// connection made with grpc.NewClient.
//
// # Errors
//
// Every error that the gateway or gRPC returns comes back as an [*Error]:
// its gRPC code, message, and what the status's details say (Booking's
// ruid, the reason, the attachment a failed delivery committed, the wait
// Booking asked for). status.Code and status.FromError see through it.
// Failures to read the caller's file or write its output are returned as
// they are.
package client
