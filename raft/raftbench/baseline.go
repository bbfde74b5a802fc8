package raftbench

import (
	"context"
	"errors"
	"net"
	"net/rpc"
	"sync"
)

// RPCBaseline is a System that pays only for the network: a "leader"
// sends each command to its followers with the standard library's
// net/rpc over loopback TCP, and the command counts as committed when a
// majority of the cluster has it (the leader and enough followers), as a
// Raft commit does. No log, no storage, no protocol: the floor under any
// replicated log on the same network.
type RPCBaseline struct {
	listeners []net.Listener
	clients   []*rpc.Client
	servers   sync.WaitGroup
}

var _ System = (*RPCBaseline)(nil)

// Follower is the baseline's RPC service: it accepts any command.
type Follower struct{}

// Append accepts a command.
func (Follower) Append(cmd []byte, ok *bool) error {
	*ok = true
	return nil
}

// StartRPCBaseline starts followers net/rpc servers on 127.0.0.1 (2 for a
// cluster of 3) and connects to them. Close stops them.
func StartRPCBaseline(followers int) (*RPCBaseline, error) {
	b := &RPCBaseline{}
	for range followers {
		srv := rpc.NewServer()
		if err := srv.Register(Follower{}); err != nil {
			return nil, errors.Join(err, b.Close())
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.Join(err, b.Close())
		}
		b.listeners = append(b.listeners, l)
		b.servers.Go(func() { b.serve(srv, l) }) // exits when Close closes l
		c, err := rpc.Dial("tcp", l.Addr().String())
		if err != nil {
			return nil, errors.Join(err, b.Close())
		}
		b.clients = append(b.clients, c)
	}
	return b, nil
}

// serve is rpc.Server.Accept without its logging, and with every
// connection's goroutine tracked, so that Close can wait for them.
func (b *RPCBaseline) serve(srv *rpc.Server, l net.Listener) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		b.servers.Go(func() { srv.ServeConn(conn) }) // exits when the client closes conn
	}
}

// Commit sends cmd to every follower and returns when enough have
// answered to make a majority with the leader.
func (b *RPCBaseline) Commit(ctx context.Context, cmd []byte) error {
	done := make(chan *rpc.Call, len(b.clients))
	for _, c := range b.clients {
		c.Go("Follower.Append", cmd, new(bool), done)
	}
	need := (len(b.clients) + 1) / 2 // with the leader, a majority of the cluster
	for range need {
		select {
		case call := <-done:
			if call.Error != nil {
				return call.Error
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Close closes the connections and the servers.
func (b *RPCBaseline) Close() error {
	var errs []error
	for _, c := range b.clients {
		errs = append(errs, c.Close())
	}
	for _, l := range b.listeners {
		errs = append(errs, l.Close())
	}
	b.servers.Wait()
	return errors.Join(errs...)
}
