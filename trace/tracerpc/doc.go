// Package tracerpc traces rpc calls with package trace: every request and
// every reply becomes a message in the trace, stamped with its sender's
// vector clock and named by its method, so that the space-time diagram shows
// "KV.Get" on the arrow from client to server and "KV.Get reply" on the
// arrow back.
//
// The stamp travels in the call's rpc metadata, not in the bytes of the
// conn, so the conns stay as they are: do not also wrap them with
// trace.Node.Wrap, or each call would be drawn twice, once as rpc and once
// as raw messages. Install the interceptors on both sides:
//
//	rec := trace.NewRecorder()
//	srv := rpc.NewServer(rpc.WithServerInterceptor(tracerpc.ServerInterceptor(rec.Node("server"))))
//	cli := rpc.NewClient(conn, rpc.WithClientInterceptor(tracerpc.ClientInterceptor(rec.Node("client"), "server")))
//
// A server that gets a call without a stamp (an untraced client) runs it
// and records nothing. A call that fails without a reply (lost, timed out,
// connection gone) leaves a request or a reply that was never received,
// which the diagram marks. With rpc retries, one call is one send in the
// trace; a request that reaches the server twice is drawn as two arrows
// from that send.
//
// For rpc messages, Event.Size and Event.Data describe the arguments or the
// reply (or "error: ..." for a failed call) as fmt's %+v prints them, after
// following pointers; they are not the bytes on the wire, which the codec
// encodes.
package tracerpc
