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

// Two codes are private to the at-most-once protocol; callers never see
// them. Both answer a request whose epoch is not the server's, with the
// server's epoch, without running the call:
//
//   - codeNeedEpoch: the request had no epoch (0): the client is new to
//     this server and sends the call again at once, with the epoch;
//   - codeWrongEpoch: the request had another incarnation's epoch. If the
//     client sent every attempt of the call on this very connection, no
//     copy can have reached another incarnation, and it sends the call
//     again; otherwise the call fails with ErrMaybeExecuted.
const (
	codeNeedEpoch  = "rpc: epoch needed"
	codeWrongEpoch = "rpc: server restarted"
)

// serverConn is the server's side of one connection. One goroutine (the
// caller of ServeConn) reads requests; each call runs in a goroutine of its
// own (see workers), counted in handlers.
//
//	conn.Recv ──▶ readLoop ──▶ parse, look up method ──▶ worker: handle ──▶ conn.Send
//	                 │                                    (one per call)
//	                 └─ refusals (unknown method, draining) answered at once
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

// closeConn closes the conn, once; later calls return at once rather than
// wait for the first to finish (a transport's Close may linger).
func (sc *serverConn) closeConn() {
	if sc.closed.CompareAndSwap(false, true) {
		_ = sc.conn.Close()
	}
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
		msg, err := sc.conn.Recv(context.Background())
		if err != nil {
			return errors.Is(err, io.EOF)
		}
		sc.s.stats.received.Add(int64(len(msg)))
		sc.watch.received.Add(1)
		if !sc.dispatch(msg) {
			return false // a goodbye from the client, or garbage
		}
	}
}

// dispatch starts the call msg asks for, or answers it at once if it cannot
// run. It returns false if msg is not a request.
func (sc *serverConn) dispatch(msg []byte) bool {
	s := sc.s
	h, body, err := parseRequest(msg)
	if err != nil {
		return false
	}
	s.stats.calls.Add(1)
	if name := s.opts.codec.Name(); string(h.codec) != name {
		sc.refuse(&h, ErrBadRequest, fmt.Sprintf("request encoded with %q, server speaks %q", h.codec, name))
		return true
	}
	m := s.registry.Load().methods[string(h.method)]
	if m == nil {
		sc.refuse(&h, s.unknown(string(h.method)), "")
		return true
	}
	running := s.inflight.Add(1)
	switch {
	case s.draining.Load():
		s.endCall()
		sc.refuseNew(&h, ErrServerClosed, "server shutting down")
		return true
	case running > int64(s.opts.limits.maxCalls):
		s.endCall()
		sc.refuseNew(&h, ErrServerBusy, fmt.Sprintf("%d calls running", s.opts.limits.maxCalls))
		return true
	}
	sc.watch.running.Add(1)
	sc.handlers.Add(1) // handle calls Done; ServeConn waits for it
	s.workers.run(job{sc: sc, m: m, h: h, body: body})
	return true
}

// refuseNew answers a call that may not start (the server shuts down, or
// is busy): a copy of a call that ran gets its saved reply, a copy of a
// running call is dropped (the reply is coming), any other is refused with
// an error matching sentinel.
func (sc *serverConn) refuseNew(h *requestHeader, sentinel error, detail string) {
	if h.flags&flagAtMostOnce != 0 && h.epoch == sc.s.epoch {
		switch state, saved := sc.s.cache.lookup(h.clientID, h.seq); state {
		case callDone:
			sc.s.stats.duplicates.Add(1)
			sc.send(saved, nil)
			return
		case callRunning:
			sc.s.stats.duplicates.Add(1)
			return
		}
	}
	sc.refuse(h, sentinel, detail)
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

// handle runs one call and sends its reply.
func (sc *serverConn) handle(m *method, h requestHeader, body []byte) {
	s := sc.s
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
		if err := s.opts.auth(ctx, &call); err != nil {
			sc.refuse(&h, ErrUnauthenticated, err.Error())
			return
		}
	}
	amo := h.flags&flagAtMostOnce != 0
	if amo && !sc.atMostOnce(&h) {
		return
	}

	err := sc.invoke(ctx, &call, body)
	buf := s.bufs.get()
	msg := sc.reply(*buf, &h, err, call.Reply, call.ReplyMetadata)
	*buf = msg[:0] // msg may have outgrown *buf
	if amo {
		msg = append([]byte(nil), msg...) // the cache keeps it
		s.cache.finish(h.clientID, h.seq, msg)
	}
	sc.send(msg, &h)
	s.bufs.put(buf)
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
	return s.handler(ctx, call)
}

// reply appends to b the reply to the call h: err if it is not nil,
// otherwise the encoded reply.
func (sc *serverConn) reply(b []byte, h *requestHeader, err error, reply any, md Metadata) []byte {
	s := sc.s
	rh := replyHeader{seq: h.seq, md: md}
	if h.flags&flagAtMostOnce != 0 {
		rh.flags |= flagEpoch
		rh.epoch = s.epoch
	}
	if err == nil {
		out := appendReply(b, &rh)
		out, err = s.opts.codec.Append(out, reply)
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

func (sc *serverConn) refuseCode(h *requestHeader, code, msg string) {
	s := sc.s
	s.stats.errors.Add(1)
	rh := replyHeader{seq: h.seq, flags: flagError, code: code, msg: msg}
	if h.flags&flagAtMostOnce != 0 {
		rh.flags |= flagEpoch
		rh.epoch = s.epoch
	}
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

// atMostOnce decides whether an at-most-once call may run. If it may not,
// it answers the call itself, with a saved reply or a refusal (or not at
// all, if a copy is running and will answer), and returns false.
func (sc *serverConn) atMostOnce(h *requestHeader) bool {
	s := sc.s
	switch h.epoch {
	case s.epoch:
	case 0: // the client does not know us yet: introduce ourselves
		s.cache.hello(h.clientID)
		sc.refuseCode(h, codeNeedEpoch, codeNeedEpoch)
		return false
	default:
		s.cache.hello(h.clientID)
		sc.refuseCode(h, codeWrongEpoch, ErrMaybeExecuted.Error()+": the server restarted")
		return false
	}
	state, saved := s.cache.begin(h.clientID, h.seq, h.ack)
	switch state {
	case callNew:
		return true
	case callDone:
		s.stats.duplicates.Add(1)
		sc.send(saved, nil)
	case callRunning:
		s.stats.duplicates.Add(1) // the running copy will answer
	case callForgotten:
		sc.refuse(h, ErrMaybeExecuted, "the server forgot this client")
	case callStale:
		sc.refuse(h, ErrMaybeExecuted, "call already acknowledged")
	case callTooMany:
		sc.refuse(h, ErrTooManyCalls, fmt.Sprintf("%d calls cached", s.cache.limits.perClient))
	}
	return false
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
