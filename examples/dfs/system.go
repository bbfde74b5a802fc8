package main

import (
	"context"
	"slices"

	"github.com/distsys-kit/distsys/afs"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// system is what the demo runs: a file server and two clients on a
// simulated network. Each client calls the server, and serves the
// server's callbacks on a connection of its own, where the server is the
// caller:
//
//	alice ──Files.Fetch, Files.Store──▶ server ◀──Files.Fetch, Files.Store── bob
//	alice ◀────────Callback.Break────── server ───────Callback.Break───────▶ bob
type system struct {
	net     *netsim.Network
	server  *afs.Server
	alice   *afs.Client
	bob     *afs.Client
	closers []func() // run in reverse order by close
}

// startSystem starts the server and the clients. The caller must call
// close, even after an error.
func startSystem(ctx context.Context, cfg config, tr *demo.Tracer) (*system, error) {
	s := &system{net: netsim.NewNetwork(cfg.faults.Seed, tr.NetsimOptions()...)}
	s.closers = append(s.closers, func() { s.net.Close() })
	if err := s.net.SetDefaultFaults(cfg.faults); err != nil {
		return s, err
	}
	// The server calls a client back within half a client's patience, so
	// that a store whose callback is lost still answers in time. The
	// server owns, and closes, its connections to the clients.
	callBack := func(ctx context.Context, client string) (afs.Conn, error) {
		return s.dial(ctx, "server", client, cfg, tr)
	}
	s.server = afs.NewServer([]afs.File{{Name: fileName, Data: "draft 1", Version: 1}},
		afs.Config{Callbacks: !cfg.nocallbacks, Dial: callBack, CallbackTimeout: cfg.timeout / 2})
	s.closers = append(s.closers, func() { s.server.Close() }) // after the rpc server below
	if err := s.serve("server", s.server.Register, tr); err != nil {
		return s, err
	}
	for _, name := range []string{"alice", "bob"} {
		rc, err := s.dial(ctx, name, "server", cfg, tr)
		if err != nil {
			return s, err
		}
		s.closers = append(s.closers, func() { rc.Close() })
		c := afs.NewClient(name, rc)
		if err := s.serve(name, c.Register, tr); err != nil {
			return s, err
		}
		if name == "alice" {
			s.alice = c
		} else {
			s.bob = c
		}
	}
	return s, nil
}

// serve starts an rpc server on node with what register registers.
func (s *system) serve(node string, register func(*rpc.Server) error, tr *demo.Tracer) error {
	l, err := s.net.Listen(node)
	if err != nil {
		return err
	}
	srv := rpc.NewServer(append(tr.ServerOptions(node), rpc.WithErrors(afs.ErrNoFile))...)
	if err := register(srv); err != nil {
		l.Close()
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }() // exits when srv is closed
	s.closers = append(s.closers, func() { srv.Close(); <-served })
	return nil
}

// dial connects an rpc client on node from to the server on node to; the
// caller closes it. It resends a request that gets no reply for a while
// (rpc.WithRetry, which also makes the server run it at most once), so
// that the faults of -drop cost time rather than calls. The first resend
// comes after an eighth of the timeout, far more than a round trip takes,
// so that only lost messages are resent (and a seed replays the run).
func (s *system) dial(ctx context.Context, from, to string, cfg config, tr *demo.Tracer) (*rpc.Client, error) {
	opts := append(tr.ClientOptions(from, to),
		rpc.WithDialer(s.net.Dialer(from)),
		rpc.WithErrors(afs.ErrNoFile),
		rpc.WithRetry(rpc.RetryPolicy{Interval: cfg.timeout / 8}))
	return rpc.Dial(ctx, to, opts...)
}

// close stops everything, the last started first.
func (s *system) close() {
	for _, f := range slices.Backward(s.closers) {
		f()
	}
}

// delivered returns how many messages the network has delivered, in all.
func (s *system) delivered() int64 {
	var n int64
	for _, node := range []string{"server", "alice", "bob"} {
		n += s.net.NodeStats(node).Out.Delivered
	}
	return n
}

// messages returns how many messages the network has carried, and how
// many of them it lost to the faults.
func (s *system) messages() (sent, lost int64) {
	for _, node := range []string{"server", "alice", "bob"} {
		st := s.net.NodeStats(node)
		sent += st.Out.Sent
		lost += st.Out.Dropped
	}
	return sent, lost
}
