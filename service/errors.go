package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/service/idempotency"
	"github.com/booking-attachment-gateway/gateway/service/membudget"
)

// errorDomain names Booking as the source of the errors that carry its ruid.
const errorDomain = "booking.com"

// toStatus maps the error of an RPC to the status its client sees. Errors
// become gRPC statuses here and in undecodable, apart from the input checks
// that build INVALID_ARGUMENT directly (validate.go's invalid) and the
// download's OUT_OF_RANGE and DATA_LOSS (download.go). In order: statuses
// stay as they are, then the caller's own cancel or deadline, then Booking's
// errors, then the upload's checks and limits; anything else is INTERNAL, its
// cause logged and not shown.
func (s *server) toStatus(ctx context.Context, method string, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	var committed *committedError
	if errors.As(err, &committed) {
		return withAttachment(s.toStatus(ctx, method, committed.err), committed.attachmentID)
	}
	var bookingErr *bookingapi.Error
	if errors.As(err, &bookingErr) && outcomeUnknown(err) {
		// Before the caller's own end: even then, a repeat must learn that
		// the message may be posted.
		return bookingStatus(bookingErr)
	}
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return status.Error(codes.Canceled, "the call was cancelled")
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the call's deadline passed before Booking answered")
	}
	if errors.As(err, &bookingErr) {
		return bookingStatus(bookingErr)
	}
	switch {
	case errors.Is(err, idempotency.ErrFull):
		return status.Error(codes.ResourceExhausted,
			"the gateway keeps as many request_ids as it may (see --max-request-ids); try again later, or without a request_id")
	case errors.Is(err, errStore):
		return status.Errorf(codes.Unavailable, "the gateway could not check the request_id: %v", err)
	}
	if errors.Is(err, bookingapi.ErrFileTooLarge) || errors.Is(err, bookingapi.ErrSizeMismatch) || errors.Is(err, bookingapi.ErrEmptyFile) {
		return status.Error(codes.InvalidArgument, strings.TrimPrefix(err.Error(), "bookingapi: "))
	}
	if errors.Is(err, membudget.ErrFull) {
		// The client may try again shortly, or on another replica.
		return status.Error(codes.ResourceExhausted,
			"the gateway holds as much of its calls' data as it may (see --max-memory), and no room came in time; try again shortly")
	}
	var idle *idleError
	if errors.As(err, &idle) {
		// DEADLINE_EXCEEDED: a time limit ran out before the call could
		// complete, which is what the code means and how clients take it.
		// The caller set no deadline, so the message names the gateway's
		// limit. CANCELLED would say the caller gave up; ABORTED, a
		// conflict with a concurrent call.
		return status.Errorf(codes.DeadlineExceeded,
			"no upload message arrived for %v (the gateway's upload idle timeout); nothing was committed", idle.timeout)
	}
	s.log.ErrorContext(ctx, "internal error", "grpc.method", method, "error", err)
	return status.Error(codes.Internal, "internal error in the attachment gateway")
}

// undecodable is the status of a request message that protobuf could not
// decode, for the reason err: the caller sent it, so it is INVALID_ARGUMENT.
func undecodable(msg any, err error) error {
	name := fmt.Sprintf("%T", msg)
	if m, ok := msg.(proto.Message); ok {
		name = string(m.ProtoReflect().Descriptor().FullName())
	}
	// protobuf's errors start with "proto:" and a space that is at times a
	// no-break space, to discourage matching on them.
	cause := strings.TrimLeft(strings.TrimPrefix(err.Error(), "proto:"), " \u00a0")
	return status.Errorf(codes.InvalidArgument, "the message could not be decoded as %s: %s", name, cause)
}

// bookingStatus maps an error caused by Booking's answer, or by its absence.
// The message names the call and quotes Booking; the ruid goes both in the
// message and in an ErrorInfo detail, as Booking's support asks for it.
func bookingStatus(e *bookingapi.Error) error {
	var code codes.Code
	var what string
	switch e.Kind {
	case bookingapi.KindInvalidRequest:
		code, what = codes.InvalidArgument, "Booking rejected the "+e.Op
	case bookingapi.KindUnauthenticated:
		// The gateway's own credentials are at fault, not the caller.
		code, what = codes.Internal, "Booking refused the gateway's credentials on "+e.Op
	case bookingapi.KindPermissionDenied:
		code, what = codes.PermissionDenied, "Booking denied access on "+e.Op
	case bookingapi.KindNotFound:
		code, what = codes.NotFound, "Booking found no such attachment or conversation on "+e.Op
	case bookingapi.KindRateLimited:
		code, what = codes.ResourceExhausted, "Booking is limiting the rate of requests; try again later ("+e.Op+")"
	case bookingapi.KindUnavailable:
		code, what = codes.Unavailable, "Booking is unavailable ("+e.Op+")"
	case bookingapi.KindDataLoss:
		code, what = codes.DataLoss, "Booking's download is inconsistent"
	default:
		code, what = codes.Internal, "Booking's answer to "+e.Op+" was unusable"
	}
	reason := "BOOKING_" + strings.ToUpper(strings.ReplaceAll(e.Op, " ", "_")) + "_FAILED"
	unknown := e.Op == bookingapi.OpMessage && e.Outcome == bookingapi.OutcomeMaybeProcessed
	if unknown {
		code, reason = codes.Unavailable, "BOOKING_OUTCOME_UNKNOWN"
		what = "the message may or may not have been posted: Booking's answer to the post was lost; check the conversation before posting it again"
	}
	msg := what
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Attempts > 1 {
		msg += fmt.Sprintf(", after %d attempts", e.Attempts)
	}
	if e.RUID != "" {
		msg += fmt.Sprintf(" (ruid %s)", e.RUID)
	}
	st := status.New(code, msg)
	var details []protoadapt.MessageV1
	if e.RUID != "" || e.StatusCode != 0 || unknown {
		details = append(details, &errdetails.ErrorInfo{
			Reason: reason,
			Domain: errorDomain,
			Metadata: map[string]string{
				"ruid":        e.RUID,
				"http_status": strconv.Itoa(e.StatusCode),
			},
		})
	}
	if e.RetryAfter > 0 {
		// Booking asked for a wait the gateway did not make: the caller
		// can schedule its retry.
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)})
	}
	if len(details) == 0 {
		return st.Err()
	}
	if detailed, err := st.WithDetails(details...); err == nil {
		return detailed.Err()
	}
	return st.Err()
}

// withAttachment adds to st, the status of a message post that followed a
// committed upload, the attachment's id: in the message and in the ErrorInfo
// metadata key "attachment_id", so that the caller can post it with
// SendMessage without uploading it again.
func withAttachment(err error, attachmentID string) error {
	st := status.Convert(err)
	p := st.Proto()
	p.Message = fmt.Sprintf("attachment %s was uploaded, but its message was not posted: %s", attachmentID, p.GetMessage())
	found := false
	for i, d := range p.GetDetails() {
		var info errdetails.ErrorInfo
		if d.UnmarshalTo(&info) != nil {
			continue
		}
		if info.Metadata == nil {
			info.Metadata = map[string]string{}
		}
		info.Metadata["attachment_id"] = attachmentID
		if packed, err := anypb.New(&info); err == nil {
			p.Details[i], found = packed, true
		}
	}
	if !found {
		info := &errdetails.ErrorInfo{Reason: "BOOKING_MESSAGE_FAILED", Domain: errorDomain,
			Metadata: map[string]string{"attachment_id": attachmentID}}
		if packed, err := anypb.New(info); err == nil {
			p.Details = append(p.Details, packed)
		}
	}
	return status.FromProto(p).Err()
}
