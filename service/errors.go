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
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
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
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return status.Error(codes.Canceled, "the call was cancelled")
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the call's deadline passed before Booking answered")
	}
	var bookingErr *bookingapi.Error
	if errors.As(err, &bookingErr) {
		return bookingStatus(bookingErr)
	}
	if errors.Is(err, bookingapi.ErrFileTooLarge) || errors.Is(err, bookingapi.ErrSizeMismatch) || errors.Is(err, bookingapi.ErrEmptyFile) {
		return status.Error(codes.InvalidArgument, strings.TrimPrefix(err.Error(), "bookingapi: "))
	}
	if errors.Is(err, errBudgetFull) {
		// The client may try again shortly, or on another replica.
		return status.Error(codes.ResourceExhausted,
			"the gateway holds as many upload bytes as it may (see --max-upload-memory); try again shortly")
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
	if e.RUID != "" || e.StatusCode != 0 {
		details = append(details, &errdetails.ErrorInfo{
			Reason: "BOOKING_" + strings.ToUpper(strings.ReplaceAll(e.Op, " ", "_")) + "_FAILED",
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
