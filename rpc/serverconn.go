package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/distsys-kit/distsys/transport"
)

// serverConn is the server's side of one connection. One goroutine (the
// caller of ServeConn) reads requests; each call runs in a goroutine of its
// own (see workers), counted in handlers.
//
//	conn.Recv ──▶ readLoop ──▶ dispatch: parse, look up, limits ──▶ handle (a goroutine per call) ──▶ conn.Send
//	                                 │                                  auth, decode, run, encode
//	                                 └─ refusals (unknown method, busy, shutting down) answered at once
//
// Calls of a client that retries (WithRetry) go through one more step in
// handle, the at-most-once check (atmostonce_server.go).
type serverConn struct {
	s      *Server
	conn   transport.Conn
	remote net.Addr

	// ctx is the parent of the handlers' contexts: cancelled when the
	// client goes away, or when the server closes.
	ctx    context.Context
	cancel context.CancelFunc

	handlers sync.WaitGroup
	done     chan struct{} // closed when ServeConn returns
	closed   atomic.Bool   // closeConn has been called
	watch    watchdog      // the idle and stall timeouts
}

// ServeConn serves calls arriving on c until c fails, the peer closes it,
// or the server closes. It blocks until then, and until the calls it started
// have returned and their replies are sent; then it closes c.
//
// A client that has sent all it will send (its end reads io.EOF: a TCP
// half-close, say) still gets the replies of its calls in flight, as with
// net/rpc. The contexts of its running calls are cancelled when the client
// closes (rpc's Client.Close says so first) or its connection breaks: a
// read or a reply's send fails.
func (s *Server) ServeConn(c transport.Conn) {
	sc := &serverConn{s: s, conn: c, remote: c.RemoteAddr(), done: make(chan struct{})}
	sc.ctx, sc.cancel = context.WithCancel(s.ctx)
	defer close(sc.done)
	defer sc.cancel()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = c.Close()
		return
	}
	if len(s.conns) >= s.opts.limits.maxConns {
		s.mu.Unlock()
		s.refuseConn(c)
		return
	}
	s.conns[sc] = struct{}{}
	s.mu.Unlock()

	sc.startWatchdog()
	if !sc.readLoop() {
		sc.cancel()
	}
	sc.handlers.Wait()
	sc.stopWatchdog()
	sc.closeConn()
	s.mu.Lock()
	delete(s.conns, sc)
	s.mu.Unlock()
}

// readLoop reads and dispatches requests until the conn fails or carries a
// message that is not a request: a peer that does not speak this protocol
// is cut off rather than guessed at. It returns true if the client only
// stopped sending (io.EOF): it may still be reading its replies.
func (sc *serverConn) readLoop() (halfClosed bool) {
	for {
		// No ctx: Close unblocks Recv by closing the conn, and a
		// cancellable ctx would cost a timer per message.
		//
		// Each request is received into a pooled buffer, which the call
		// puts back when its reply is sent: a 4 KiB call allocates 4.8 KB
		// less (BenchmarkRPC/4KiB).
		buf := sc.s.bufs.get()
		msg, err := transport.RecvInto(context.Background(), sc.conn, *buf)
		if err != nil {
			sc.s.bufs.put(buf)
			return errors.Is(err, io.EOF)
		}
		*buf = msg[:0] // msg may have outgrown *buf
		sc.s.stats.received.Add(int64(len(msg)))
		sc.watch.received.Add(1)
		started, ok := sc.dispatch(msg, buf)
		if !started {
			sc.s.bufs.put(buf)
		}
		if !ok {
			return false // a goodbye from the client, or garbage
		}
	}
}

// dispatch starts the call msg asks for, or answers it at once if it cannot
// run. msg lies in buf: a call that starts (started) owns buf, and puts it
// back when done; otherwise the caller may reuse it at once. ok is false if
// msg is not a request.
func (sc *serverConn) dispatch(msg []byte, buf *[]byte) (started, ok bool) {
	s := sc.s
	h, body, err := parseRequest(msg)
	if err != nil {
		return false, false
	}
	s.stats.calls.Add(1)
	if name := s.opts.codec.Name(); string(h.codec) != name {
		sc.refuse(&h, ErrBadRequest, fmt.Sprintf("request encoded with %q, server speaks %q", h.codec, name))
		return false, true
	}
	m := s.registry.Load().methods[string(h.method)]
	if m == nil {
		sc.refuse(&h, s.unknown(string(h.method)), "")
		return false, true
	}
	running := s.inflight.Add(1)
	switch {
	case s.draining.Load():
		s.endCall()
		sc.refuseNew(&h, ErrServerClosed, "server shutting down")
		return false, true
	case running > int64(s.opts.limits.maxCalls):
		s.endCall()
		sc.refuseNew(&h, ErrServerBusy, fmt.Sprintf("%d calls running", s.opts.limits.maxCalls))
		return false, true
	}
	sc.watch.running.Add(1)
	sc.handlers.Add(1) // handle calls Done; ServeConn waits for it
	s.workers.run(job{sc: sc, m: m, h: h, body: body, buf: buf})
	return true, true
}

// unknown says which of service and method is missing.
func (s *Server) unknown(name string) error {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '.' {
			if s.registry.Load().services[name[:i]] {
				return ErrUnknownMethod
			}
			break
		}
	}
	return ErrUnknownService
}

// handle runs one call and sends its reply, then puts back buf, which
// holds the request (h's byte fields and body).
func (sc *serverConn) handle(m *method, h requestHeader, body []byte, buf *[]byte) {
	s := sc.s
	defer s.bufs.put(buf)
	defer sc.handlers.Done()
	defer sc.watch.running.Add(-1)
	defer s.endCall()

	ctx := sc.ctx
	if h.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.timeout)
		defer cancel()
	}
	call := ServerCall{
		Method: m.name, Metadata: h.md, RemoteAddr: sc.remote,
		ClientID: h.clientID, Seq: h.seq, method: m,
	}
	if s.opts.auth != nil {
		if err := onHeap(&call, func(c *ServerCall) error { return s.opts.auth(ctx, c) }); err != nil {
			sc.refuse(&h, ErrUnauthenticated, err.Error())
			return
		}
	}
	if h.flags&flagAtMostOnce != 0 {
		s.handleAtMostOnce(ctx, sc, &h, &call, body) // atmostonce_server.go
		return
	}
	sc.respond(ctx, &h, &call, body, nil)
}

// respond runs call and sends its reply. keep, if not nil, is handed the
// reply before it is sent; it must not hold on to it (its buffer is
// reused), and copies what it keeps.
func (sc *serverConn) respond(ctx context.Context, h *requestHeader, call *ServerCall, body []byte, keep func(reply []byte)) {
	err := sc.invoke(ctx, call, body)
	buf := sc.s.bufs.get()
	msg := sc.reply(*buf, h, err, call.Reply, call.ReplyMetadata)
	*buf = msg[:0] // msg may have outgrown *buf
	if keep != nil {
		keep(msg)
	}
	sc.send(msg, h)
	sc.s.bufs.put(buf)
}

// invoke decodes the arguments of call and runs it, through the server
// interceptors if any. A panic in the handler (or an interceptor) is
// recovered and logged, and becomes the call's error: one bad call does
// not take the server, and every other client, down with it.
func (sc *serverConn) invoke(ctx context.Context, call *ServerCall, body []byte) (err error) {
	s, m := sc.s, call.method
	defer func() {
		if r := recover(); r != nil {
			s.opts.logger.Error("rpc: handler panicked", "method", m.name, "remote", sc.remote,
				"panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: %v", ErrHandlerPanicked, r)
		}
	}()
	call.Args, call.Reply = m.newArgs()
	if err := s.opts.codec.Decode(body, call.Args); err != nil {
		return fmt.Errorf("%w: decode arguments of %s: %v", ErrBadRequest, m.name, err)
	}
	if s.handler == nil {
		return m.call(ctx, call.Args, call.Reply)
	}
	return onHeap(call, func(c *ServerCall) error { return s.handler(ctx, c) })
}

// onHeap runs f (an interceptor, or WithAuth's function) on a copy of call
// on the heap, and copies the result back. Handing f call itself would move
// the ServerCall of every call to the heap, those that meet no interceptor
// included: 160 bytes and an allocation a call (BenchmarkRPC/4KiB).
func onHeap(call *ServerCall, f func(*ServerCall) error) error {
	c := new(ServerCall)
	*c = *call
	err := f(c)
	*call = *c
	return err
}

// replyTo starts the header of the reply to h. The reply to an at-most-once
// request says which incarnation of the server answered (its epoch).
func (s *Server) replyTo(h *requestHeader) replyHeader {
	rh := replyHeader{seq: h.seq}
	if h.flags&flagAtMostOnce != 0 {
		rh.flags, rh.epoch = flagEpoch, s.epoch
	}
	return rh
}

// reply appends to b the reply to the call h: err if it is not nil,
// otherwise the encoded reply.
func (sc *serverConn) reply(b []byte, h *requestHeader, err error, reply any, md Metadata) []byte {
	s := sc.s
	rh := s.replyTo(h)
	rh.md = md
	if err == nil {
		out, err := s.opts.codec.Append(appendReply(b, &rh), reply)
		if err == nil {
			return out
		}
		err = fmt.Errorf("%w: encode reply of %s: %v", ErrBadReply, h.method, err)
		b = b[:0]
	}
	s.stats.errors.Add(1)
	rh.flags |= flagError
	rh.code, rh.msg = s.errs.code(err), err.Error()
	return appendReply(b, &rh)
}

// refuse answers the call h with an error matching sentinel, with an
// optional detail, without running it.
func (sc *serverConn) refuse(h *requestHeader, sentinel error, detail string) {
	msg := sentinel.Error()
	if detail != "" {
		msg += ": " + detail
	}
	sc.refuseCode(h, sentinel.Error(), msg)
}

// refuseNew is refuse for a call that may not start now (the server is
// shutting down, or busy), which for a client that retries may be a copy
// of a call that did run: that one gets the call's answer instead.
func (sc *serverConn) refuseNew(h *requestHeader, sentinel error, detail string) {
	if h.flags&flagAtMostOnce != 0 && sc.s.answerCopy(sc, h) { // atmostonce_server.go
		return
	}
	sc.refuse(h, sentinel, detail)
}

// refuseCode answers the call h with an error of code and message msg.
func (sc *serverConn) refuseCode(h *requestHeader, code, msg string) {
	s := sc.s
	s.stats.errors.Add(1)
	rh := s.replyTo(h)
	rh.flags |= flagError
	rh.code, rh.msg = code, msg
	buf := s.bufs.get()
	out := appendReply(*buf, &rh)
	sc.send(out, nil)
	*buf = out[:0]
	s.bufs.put(buf)
}

// send sends the reply msg to the call h. If msg is too large for the
// transport and h is not nil, an error goes instead. Any other failure means
// the conn is broken: the calls still running on it are cancelled, since
// their replies cannot be sent either.
func (sc *serverConn) send(msg []byte, h *requestHeader) {
	// Counted before the send, so that a client holding the reply sees it
	// counted; taken back if the send fails.
	sc.s.stats.sent.Add(int64(len(msg)))
	sc.watch.sendsBegun.Add(1)
	err := sc.conn.Send(sc.ctx, msg)
	sc.watch.sendsEnded.Add(1)
	if err == nil {
		return
	}
	sc.s.stats.sent.Add(-int64(len(msg)))
	if h != nil && errors.Is(err, transport.ErrMessageTooLarge) {
		sc.refuse(h, ErrBadReply, err.Error())
		return
	}
	sc.cancel()
}

// goAway tells the client the server is closing the conn, for the reason
// code and msg give (none: the server is shutting down), then closes it,
// which ends readLoop.
func (sc *serverConn) goAway(code, msg string) {
	ctx, cancel := context.WithTimeout(context.Background(), goAwayTimeout)
	defer cancel()
	_ = sc.conn.Send(ctx, appendGoAway(nil, code, msg))
	sc.closeConn()
}

// closeConn closes the conn, once; later calls return at once rather than
// wait for the first to finish (a transport's Close may linger).
func (sc *serverConn) closeConn() {
	if sc.closed.CompareAndSwap(false, true) {
		_ = sc.conn.Close()
	}
}
