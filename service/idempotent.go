package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/booking-attachment-gateway/gateway/service/idempotency"
)

// defaultRepeatWait is Options.RepeatWait's default.
const defaultRepeatWait = 2 * time.Minute

// errStore marks a failure of the request_id store, which the caller may
// retry.
var errStore = errors.New("the gateway's request_id store failed")

// once runs call under requestID, unless a call with that id ran already;
// then it waits for that call if it still runs, and answers as it did.
// fingerprint identifies the request, so that another request under the
// same id is refused. It returns the response, or a status error.
//
// A call that succeeded is answered with its response, and one whose
// message Booking may have posted with its status; a call that failed
// otherwise frees its id, so that a repeat runs again.
func (s *server) once(ctx context.Context, method, requestID, fingerprint string, out proto.Message,
	call func(context.Context) (proto.Message, error)) (proto.Message, error) {
	for {
		rec, claimed, err := s.claim(ctx, method, requestID, fingerprint)
		if err != nil {
			return nil, err
		}
		if claimed {
			resp, err := call(ctx)
			return resp, s.settle(ctx, method, requestID, fingerprint, resp, err)
		}
		if rec.Fingerprint != fingerprint {
			return nil, s.otherRequest(requestID)
		}
		rec, ok, err := s.await(ctx, method, requestID, rec)
		if err != nil {
			return nil, err
		}
		if ok {
			return s.replay(rec, out)
		}
		// The call that held the id failed and freed it: run this one.
	}
}

// claim claims requestID for a call, or returns the record of the call that
// holds it.
func (s *server) claim(ctx context.Context, method, requestID, fingerprint string) (idempotency.Record, bool, error) {
	rec, claimed, err := s.records.Claim(ctx, requestID, fingerprint)
	if err != nil && !errors.Is(err, idempotency.ErrFull) {
		err = fmt.Errorf("%w: %w", errStore, err)
	}
	if err != nil {
		return rec, false, s.toStatus(ctx, method, err)
	}
	return rec, claimed, nil
}

// settle maps the claimed call's error to its status, keeps its outcome
// under requestID (the response, or a status whose repeat must not run the
// call again), or frees requestID after any other failure; and returns the
// status, nil on success. It keeps the outcome even when the caller has
// gone, so that a repeat learns it.
func (s *server) settle(ctx context.Context, method, requestID, fingerprint string, resp proto.Message, callErr error) error {
	ctx = context.WithoutCancel(ctx)
	var st *status.Status
	if callErr != nil {
		st = status.Convert(s.toStatus(ctx, method, callErr))
	}
	var result *spb.Status
	switch {
	case callErr == nil:
		packed, err := anypb.New(resp)
		if err != nil {
			return s.toStatus(ctx, method, err)
		}
		result = &spb.Status{Code: int32(codes.OK), Details: []*anypb.Any{packed}}
	case outcomeUnknown(callErr):
		result = st.Proto()
	}
	var err error
	if result == nil {
		err = s.records.Release(ctx, requestID)
	} else {
		encoded, _ := proto.Marshal(result)
		err = s.records.Finish(ctx, requestID, idempotency.Record{Fingerprint: fingerprint, Done: true, Result: encoded})
	}
	if err != nil {
		s.log.ErrorContext(ctx, "keeping a request_id's outcome failed", "request_id", requestID, "error", err)
	}
	return st.Err()
}

// await returns requestID's record once its call has finished, waiting at
// most s.repeatWait; ok is false if the call failed and freed the id.
func (s *server) await(ctx context.Context, method, requestID string, rec idempotency.Record) (idempotency.Record, bool, error) {
	if rec.Done {
		return rec, true, nil
	}
	waitCtx, cancel := context.WithTimeoutCause(ctx, s.repeatWait, errRepeatWait)
	defer cancel()
	rec, ok, err := s.records.Wait(waitCtx, requestID)
	switch {
	case err != nil && context.Cause(waitCtx) == errRepeatWait:
		return rec, false, status.Errorf(codes.Aborted,
			"a call with request_id %q is still running after %v; try again later for its answer", requestID, s.repeatWait)
	case err != nil && ctx.Err() != nil:
		return rec, false, s.toStatus(ctx, method, ctx.Err())
	case err != nil:
		return rec, false, s.toStatus(ctx, method, fmt.Errorf("%w: %w", errStore, err))
	}
	return rec, ok, nil
}

var errRepeatWait = errors.New("service: waited for a running call with the same request_id")

// replay answers as the call that rec records did: its response, decoded
// into out, or its status.
func (s *server) replay(rec idempotency.Record, out proto.Message) (proto.Message, error) {
	var result spb.Status
	if err := proto.Unmarshal(rec.Result, &result); err != nil {
		return nil, status.Error(codes.Internal, "internal error in the attachment gateway: a request_id's record cannot be read")
	}
	s.metrics.Replayed()
	if codes.Code(result.GetCode()) != codes.OK {
		return nil, status.FromProto(&result).Err()
	}
	if len(result.GetDetails()) != 1 || result.GetDetails()[0].UnmarshalTo(out) != nil {
		return nil, status.Error(codes.Internal, "internal error in the attachment gateway: a request_id's record cannot be read")
	}
	return out, nil
}

// otherRequest is the status of a request whose request_id another request
// used.
func (s *server) otherRequest(requestID string) error {
	return status.Errorf(codes.InvalidArgument,
		"request_id %q was used by another request (other fields or other bytes) in the last %s: use a new request_id for a new request",
		requestID, strings.TrimSuffix(strings.TrimSuffix(s.recordTTL.String(), "0s"), "0m"))
}

// fingerprint identifies a request of method: the hex SHA-256 of its
// deterministic encoding.
func fingerprint(method string, m proto.Message) string {
	encoded, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write(encoded)
	return hex.EncodeToString(h.Sum(nil))
}
