package service

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// Register registers svc on s like attachmentsv1.RegisterAttachmentServiceServer,
// except that a request message that protobuf cannot decode (bytes that are
// not protobuf, a string that is not UTF-8) fails its call with
// INVALID_ARGUMENT, as the caller's error, instead of grpc-go's INTERNAL: for
// every method, and for every message of a stream. s must be built with
// ServerOption; without it, such calls stay INTERNAL.
func Register(s grpc.ServiceRegistrar, svc attachmentsv1.AttachmentServiceServer) {
	attachmentsv1.RegisterAttachmentServiceServer(decodingRegistrar{s}, svc)
}

// ServerOption returns the grpc.ServerOption that Register needs. The server
// decodes with grpc-go's proto codec as before, but the failure to decode a
// message that one of Register's handlers receives goes back to the handler
// instead of failing grpc-go's RecvMsg.
//
// Register cannot do without it: grpc-go's RecvMsg writes INTERNAL to the
// client as soon as a message fails to decode, before a handler sees the
// error and could choose another status.
func ServerOption() grpc.ServerOption {
	return grpc.ForceServerCodecV2(deferringCodec{encoding.GetCodecV2("proto")})
}

// decodingRegistrar registers services whose handlers receive through
// receiveDecoded.
type decodingRegistrar struct {
	grpc.ServiceRegistrar
}

// RegisterService registers a copy of desc that differs only in its
// handlers, each of which calls desc's own. (Generated code asks that its
// descriptors not be copied, so that it stays free to change them; a copy
// that wraps every handler, whatever the methods, keeps up with such
// changes.)
func (r decodingRegistrar) RegisterService(desc *grpc.ServiceDesc, impl any) {
	wrapped := *desc
	wrapped.Methods = make([]grpc.MethodDesc, len(desc.Methods))
	for i, m := range desc.Methods {
		m.Handler = decodingMethod(m.Handler)
		wrapped.Methods[i] = m
	}
	wrapped.Streams = make([]grpc.StreamDesc, len(desc.Streams))
	for i, d := range desc.Streams {
		handler := d.Handler
		d.Handler = func(srv any, stream grpc.ServerStream) error {
			return handler(srv, decodingStream{stream})
		}
		wrapped.Streams[i] = d
	}
	r.ServiceRegistrar.RegisterService(&wrapped, impl)
}

// decodingMethod wraps a unary handler. A request that does not decode
// still passes the interceptors, which see the call fail with
// INVALID_ARGUMENT, so that it is logged and counted like any other.
func decodingMethod(handler grpc.MethodHandler) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		var undecoded error
		decode := func(msg any) (err error) {
			undecoded, err = receiveDecoded(msg, dec)
			return err
		}
		failUndecoded := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
			call := func(ctx context.Context, req any) (any, error) {
				if undecoded != nil {
					return nil, undecoded
				}
				return next(ctx, req)
			}
			if interceptor == nil {
				return call(ctx, req)
			}
			return interceptor(ctx, req, info, call)
		}
		return handler(srv, ctx, decode, failUndecoded)
	}
}

// decodingStream is a ServerStream whose RecvMsg fails with INVALID_ARGUMENT
// for a message that could not be decoded.
type decodingStream struct {
	grpc.ServerStream
}

func (s decodingStream) RecvMsg(msg any) error {
	undecoded, err := receiveDecoded(msg, s.ServerStream.RecvMsg)
	if undecoded != nil {
		return undecoded
	}
	return err
}

// awaiting holds, for each message that receiveDecoded is receiving, an
// *error for deferringCodec to set.
var awaiting sync.Map

// receiveDecoded receives msg with recv. A message that arrived but could
// not be decoded is no error of recv's: receiveDecoded returns its
// INVALID_ARGUMENT status as undecoded instead.
func receiveDecoded(msg any, recv func(any) error) (undecoded, err error) {
	var decodeErr error
	awaiting.Store(msg, &decodeErr)
	err = recv(msg)
	awaiting.Delete(msg)
	if err == nil && decodeErr != nil {
		return undecodable(msg, decodeErr), nil
	}
	return nil, err
}

// deferringCodec is grpc-go's proto codec, except that a message that
// receiveDecoded awaits always decodes: protobuf's error, if any, goes to
// receiveDecoded.
type deferringCodec struct {
	encoding.CodecV2
}

func (c deferringCodec) Unmarshal(data mem.BufferSlice, msg any) error {
	decodeErr, ok := awaiting.Load(msg)
	if !ok {
		return c.CodecV2.Unmarshal(data, msg)
	}
	*decodeErr.(*error) = c.CodecV2.Unmarshal(data, msg)
	return nil
}
