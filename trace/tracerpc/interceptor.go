package tracerpc

import (
	"context"
	"fmt"
	"reflect"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/trace"
)

// MetadataKey is the rpc metadata key under which a call's and a reply's
// trace stamps travel.
const MetadataKey = "trace"

// ClientInterceptor returns an rpc client interceptor that records every
// call the client makes as a message from node to server, named by its
// method, and the reply (if one comes) as a message back. server names the
// server's node in the trace until its reply names it itself. The
// interceptor is safe for concurrent use.
func ClientInterceptor(node *trace.Node, server string) rpc.ClientInterceptor {
	return func(ctx context.Context, call *rpc.Call, invoke rpc.Invoker) error {
		_, stamp := node.RecordSend(server, call.Method, describe(call.Args))
		call.Metadata = with(call.Metadata, stamp)
		err := invoke(ctx, call)
		if s, ok := call.ReplyMetadata[MetadataKey]; ok {
			// A stamp we cannot read is left out of the trace: tracing
			// must not fail a call that worked.
			_, _ = node.RecordReceive([]byte(s), outcome(call.Reply, err))
		}
		return err
	}
}

// ServerInterceptor returns an rpc server interceptor that records every
// traced call the server runs as a message received by node, and its reply
// as a message sent back. Calls without a stamp are run and not recorded.
// The interceptor is safe for concurrent use.
func ServerInterceptor(node *trace.Node) rpc.ServerInterceptor {
	return func(ctx context.Context, call *rpc.ServerCall, next rpc.Handler) error {
		s, ok := call.Metadata[MetadataKey]
		if !ok {
			return next(ctx, call)
		}
		req, rerr := node.RecordReceive([]byte(s), describe(call.Args))
		err := next(ctx, call)
		if rerr != nil {
			return err // a damaged stamp: the call is not in the trace
		}
		_, stamp := node.RecordSend(req.Peer, trace.ReplyLabel(req.Label), outcome(call.Reply, err))
		call.ReplyMetadata = with(call.ReplyMetadata, stamp)
		return err
	}
}

// with returns md with the stamp added, making md if it is nil.
func with(md rpc.Metadata, stamp []byte) rpc.Metadata {
	if md == nil {
		md = make(rpc.Metadata, 1)
	}
	md[MetadataKey] = string(stamp)
	return md
}

// describe prints v as fmt's %+v does, after following pointers: rpc
// arguments and replies are pointers, and their addresses say nothing.
func describe(v any) []byte {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return []byte("<nil>")
	}
	return fmt.Appendf(nil, "%+v", rv)
}

// outcome describes a call's result: its reply, or its error.
func outcome(reply any, err error) []byte {
	if err != nil {
		return []byte("error: " + err.Error())
	}
	return describe(reply)
}
