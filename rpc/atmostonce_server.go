package rpc

import (
	"bytes"
	"context"
	"fmt"
)

// This file is the server's half of at-most-once execution (see "At most
// once" in the package documentation, and atmostonce_client.go for the
// client's half). A request from a client that retries carries the
// client's id, its sequence number, the client's acknowledgement and the
// server's epoch as the client knows it. The server runs it only if its
// reply cache has not seen it, and keeps the reply until the client
// acknowledges it, to answer copies with:
//
//	request ──▶ epoch ours? ──no──▶ answer with our epoch (codeNeedEpoch, codeWrongEpoch)
//	               │yes
//	               ▼
//	         reply cache: new? ──copy of a call that finished──▶ answer with its saved reply
//	               │yes         └─copy of a call that is running──▶ drop it: the reply is coming
//	               ▼
//	         run it (respond), and save the reply
//
// The plain path calls in twice: handle, for every at-most-once call, and
// refuseNew, so that a copy of a call that ran is not told "did not run"
// when the server is busy or shutting down.

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

// WithReplyCache bounds the reply cache the server keeps for at-most-once
// execution: replies of at most clients clients, and at most perClient
// unacknowledged replies per client. A client pushed out of the cache gets
// ErrMaybeExecuted if it retries a call the server may have run; a client
// with perClient replies outstanding gets ErrTooManyCalls until it
// acknowledges some. Zero or negative values mean the defaults.
func WithReplyCache(clients, perClient int) ServerOption {
	return serverOption(func(o *serverOptions) {
		if clients > 0 {
			o.cache.clients = clients
		}
		if perClient > 0 {
			o.cache.perClient = perClient
		}
	})
}

type cacheLimits struct {
	clients, perClient int
}

// handleAtMostOnce is the end of handle for an at-most-once call: it runs
// the call if this is its first copy, and answers the others.
func (s *Server) handleAtMostOnce(ctx context.Context, sc *serverConn, h *requestHeader, call *ServerCall, body []byte) {
	switch h.epoch {
	case s.epoch:
	case 0: // the client does not know us yet: introduce ourselves
		s.cache.hello(h.clientID)
		sc.refuseCode(h, codeNeedEpoch, codeNeedEpoch)
		return
	default:
		s.cache.hello(h.clientID)
		sc.refuseCode(h, codeWrongEpoch, ErrMaybeExecuted.Error()+": the server restarted")
		return
	}
	state, saved := s.cache.begin(h.clientID, h.seq, h.ack)
	switch state {
	case callNew:
		sc.respond(ctx, h, call, body, func(reply []byte) {
			s.cache.finish(h.clientID, h.seq, bytes.Clone(reply))
		})
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
}

// answerCopy answers h if it is a copy of a call this server has run or is
// running: with the saved reply, or (running) not at all, since the reply
// is coming. It reports whether h was such a copy.
func (s *Server) answerCopy(sc *serverConn, h *requestHeader) bool {
	if h.epoch != s.epoch {
		return false
	}
	switch state, saved := s.cache.lookup(h.clientID, h.seq); state {
	case callDone:
		s.stats.duplicates.Add(1)
		sc.send(saved, nil)
		return true
	case callRunning:
		s.stats.duplicates.Add(1)
		return true
	}
	return false
}
