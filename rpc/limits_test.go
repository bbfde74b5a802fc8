package rpc_test

import (
	"context"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// serveRaw serves a fresh Arith and Big with opts on one end of a pipe and
// returns the other end, raw, for a test to play the client by hand. done
// is closed when ServeConn returns; cleanup closes the server. It is a
// net.Pipe, not netsim, on purpose: these tests write bytes (half a frame,
// a header that lies), below the messages that netsim carries.
func serveRaw(t *testing.T, serverOpts []transport.Option, opts ...rpc.ServerOption) (client net.Conn, svc *Arith, srv *rpc.Server, done chan struct{}) {
	a, b := net.Pipe()
	svc = newArith()
	srv = rpc.NewServer(opts...)
	require.NoError(t, srv.Register(svc))
	require.NoError(t, srv.Register(Big{}))
	done = make(chan struct{})
	go func() { defer close(done); srv.ServeConn(transport.NewConn(b, serverOpts...)) }()
	t.Cleanup(func() {
		a.Close()
		require.NoError(t, srv.Close())
		<-done
	})
	return a, svc, srv, done
}

// readAll reads what the server sends on a raw conn until it closes it,
// and returns the last message.
func readAll(t *testing.T, nc net.Conn) []byte {
	t.Helper()
	c := transport.NewConn(nc)
	defer c.Close()
	var last []byte
	for {
		msg, err := c.Recv(context.Background())
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			return last
		}
		last = msg
	}
}

// TestIdleConnectionIsClosed checks that a connection carrying nothing is
// closed after the idle timeout, with a goodbye that says why, and not
// before.
func TestIdleConnectionIsClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, _, done := serveRaw(t, nil, rpc.WithIdleTimeout(time.Minute))
		start := time.Now()
		time.Sleep(59 * time.Second)
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("closed before the idle timeout")
		default:
		}
		<-done
		// Checked every half timeout; closing the conn then waits for
		// the transport's linger, as the client does not read.
		assert.LessOrEqual(t, time.Since(start), 90*time.Second+transport.DefaultLinger)
	})
}

// TestSlowlorisIsClosed checks that a client that starts a message and
// never finishes it is cut off: a partial message is no activity. Two
// timeouts race for it: the server's idle timeout (a goodbye that says
// "idle") and the transport's read-progress timeout (30 s by default: the
// conn is closed without a word, since the peer is not reading anyway).
func TestSlowlorisIsClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nc, _, _, _ := serveRaw(t, nil, rpc.WithIdleTimeout(time.Minute))
		_, err := nc.Write([]byte{0, 0, 0x40, 0, 1, 1}) // 16 KiB announced, 2 bytes sent
		require.NoError(t, err)
		start := time.Now()
		goAway := readAll(t, nc)
		assert.LessOrEqual(t, time.Since(start), 90*time.Second)
		if len(goAway) > 0 {
			assert.Contains(t, string(goAway), "idle", "a goodbye says why")
		}
	})
}

// TestIdleTimeoutSparesRunningCallsAndDialClients checks that a connection
// with a call running is not idle however long the call takes, and that a
// client made by Dial redials, unnoticed, after its idle connection was
// closed.
func TestIdleTimeoutSparesRunningCallsAndDialClients(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startEnv(t, simNetwork(), rpc.WithIdleTimeout(time.Minute))
		c := e.dial()
		call := c.Go(t.Context(), "Arith.Wait", &Args{A: 4}, new(Reply), nil)
		e.entered(1)
		time.Sleep(10 * time.Minute)
		close(e.svc.release)
		require.NoError(t, (<-call.Done).Error)

		time.Sleep(10 * time.Minute) // now idle: the server closes the connection
		var r Reply
		require.NoError(t, c.Call(t.Context(), "Arith.Add", &Args{A: 1, B: 2}, &r))
		assert.Equal(t, 3, r.C)
	})
}

// TestIdleCloseTellsNewClientWhy checks what a client made by NewClient,
// which cannot redial, sees after its connection was closed for idleness.
func TestIdleCloseTellsNewClientWhy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, l, d := simNet(t, 0)
		startServerWith(t, l, rpc.WithIdleTimeout(time.Minute))
		conn, err := d.Dial(t.Context(), "server")
		require.NoError(t, err)
		c := rpc.NewClient(conn)
		defer c.Close()
		time.Sleep(2 * time.Minute)
		err = c.Call(t.Context(), "Arith.Add", &Args{}, new(Reply))
		require.ErrorIs(t, err, rpc.ErrConnLost)
		assert.Contains(t, err.Error(), "1m0s idle")
	})
}

// TestStalledReaderIsCut checks that a client that sends calls and reads
// none of their replies cannot hold the server's handlers for ever: once
// replies have waited the stall timeout, the connection is closed and the
// calls let go.
func TestStalledReaderIsCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A tiny send buffer, so that the third reply already waits.
		nc, _, srv, done := serveRaw(t, []transport.Option{transport.WithSendBuffer(1)},
			rpc.WithStallTimeout(30*time.Second), rpc.WithIdleTimeout(-1))
		var reqs []byte
		for seq := range 4 {
			reqs = append(reqs, rawMakeRequest(uint64(seq+1), 1000)...)
		}
		_, err := nc.Write(reqs)
		require.NoError(t, err)
		start := time.Now()
		time.Sleep(29 * time.Second)
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("cut off before the stall timeout")
		default:
		}
		<-done
		// Checked every half timeout; closing the conn then waits for
		// the transport's linger.
		assert.LessOrEqual(t, time.Since(start), 45*time.Second+transport.DefaultLinger)
		ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx), "no call is left running")
	})
}

// TestMaxConnsRefusesClearly checks the connection limit: a client beyond
// it gets ErrServerBusy at its first call, which did not run, and gets in
// once a connection is free.
func TestMaxConnsRefusesClearly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startEnv(t, simNetwork(), rpc.WithMaxConns(1))
		first := e.dial()
		require.NoError(t, first.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply)))

		second := e.dial()
		err := second.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply))
		require.ErrorIs(t, err, rpc.ErrServerBusy)
		assert.Contains(t, err.Error(), "1 connections open")
		assert.EqualValues(t, 1, e.svc.n.Load(), "the refused call did not run")

		require.NoError(t, first.Close())
		synctest.Wait()
		require.NoError(t, second.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply)), "a free slot: the redial gets in")
	})
}

// TestMaxCallsRefusesClearly checks the limit on calls running: a call
// beyond it is refused with ErrServerBusy and does not run; the others are
// not disturbed.
func TestMaxCallsRefusesClearly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startEnv(t, simNetwork(), rpc.WithMaxCalls(2))
		c := e.dial()
		first := c.Go(t.Context(), "Arith.Wait", &Args{A: 1}, new(Reply), nil)
		second := c.Go(t.Context(), "Arith.Wait", &Args{A: 2}, new(Reply), nil)
		e.entered(2)

		err := c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply))
		var re *rpc.RemoteError
		require.ErrorAs(t, err, &re)
		require.ErrorIs(t, err, rpc.ErrServerBusy)
		assert.Zero(t, e.svc.n.Load(), "the refused call did not run")

		close(e.svc.release)
		require.NoError(t, (<-first.Done).Error)
		require.NoError(t, (<-second.Done).Error)
		require.NoError(t, c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply)))
	})
}

// listenerValue is a Listener that is not comparable (it holds a slice),
// as a user's wrapper may well be.
type listenerValue struct {
	transport.Listener
	tags []string
}

func TestServeTakesAListenerThatIsNotComparable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(1)
		l, err := n.Listen("server")
		require.NoError(t, err)
		startServer(t, listenerValue{Listener: l, tags: []string{"a"}})
		c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(n.Dialer("client")))
		require.NoError(t, err)
		defer c.Close()
		var r Reply
		require.NoError(t, c.Call(t.Context(), "Arith.Add", &Args{A: 1, B: 2}, &r))
		assert.Equal(t, 3, r.C)
	})
}
