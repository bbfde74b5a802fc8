package rpc

import (
	"context"
	"net"
)

// Metadata is a small set of key-value pairs that travels with a call,
// beside its arguments, and with its reply: a trace id, a vector clock, an
// authentication token. Interceptors read and write it; handlers never see
// it. Keys and values are arbitrary strings (binary is fine).
type Metadata map[string]string

// Call is one call made by a Client: what Go returns, and what client
// interceptors see.
type Call struct {
	Method string // "Service.Method"
	Args   any    // the arguments
	Reply  any    // where the reply is decoded, a pointer

	// Metadata is sent with the request. Interceptors may set or add to
	// it before invoking the next step; it starts as nil.
	Metadata Metadata
	// ReplyMetadata is what the server sent back with its reply, set by the
	// time the call completes; nil if none.
	ReplyMetadata Metadata

	Error error      // after completion, the call's error
	Done  chan *Call // receives the call when it completes (Go only)
}

// An Invoker carries out a call: the next interceptor, or at the end of
// the chain the client itself.
type Invoker func(ctx context.Context, call *Call) error

// A ClientInterceptor wraps every call a client makes: it may log or time
// it, add call.Metadata before calling invoke, read call.ReplyMetadata
// after, change the error, or not call invoke at all. It runs in the
// caller's goroutine (for Go, in a goroutine of the client), so it must be
// safe for concurrent use.
type ClientInterceptor func(ctx context.Context, call *Call, invoke Invoker) error

// ServerCall is one call as the server sees it, handed to the
// authentication hook and to server interceptors.
type ServerCall struct {
	Method string // "Service.Method"
	Args   any    // the decoded arguments, a pointer (nil in WithAuth)
	Reply  any    // the reply the handler fills in, a pointer (nil in WithAuth)

	// Metadata is what the client sent with the request; nil if none.
	Metadata Metadata
	// ReplyMetadata is sent back with the reply. Interceptors may set or
	// add to it; it starts as nil.
	ReplyMetadata Metadata

	RemoteAddr net.Addr // the client's address, as the transport reports it
	ClientID   uint64   // the client's id for at-most-once calls (WithRetry); 0 otherwise
	Seq        uint64   // the call's sequence number within its client

	method *method
}

// A Handler runs a call: the next interceptor, or at the end of the chain
// the registered method.
type Handler func(ctx context.Context, call *ServerCall) error

// A ServerInterceptor wraps every handler the server runs, after
// authentication and after the arguments are decoded: it may log or time the
// call, read call.Metadata, set call.ReplyMetadata, change the error, or
// refuse the call by not calling next. It must be safe for concurrent use.
type ServerInterceptor func(ctx context.Context, call *ServerCall, next Handler) error

func chainClient(ics []ClientInterceptor, last Invoker) Invoker {
	for i := len(ics) - 1; i >= 0; i-- {
		ic, next := ics[i], last
		last = func(ctx context.Context, call *Call) error { return ic(ctx, call, next) }
	}
	return last
}

func chainServer(ics []ServerInterceptor, last Handler) Handler {
	for i := len(ics) - 1; i >= 0; i-- {
		ic, next := ics[i], last
		last = func(ctx context.Context, call *ServerCall) error { return ic(ctx, call, next) }
	}
	return last
}
