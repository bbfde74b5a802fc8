package rpc_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// halfClosedConn is the server's end of a connection whose client sends
// the messages in, then closes its sending side: Recv returns them, then
// io.EOF, as a TCP half-close reads. What the server sends goes to out.
type halfClosedConn struct {
	in     chan []byte // closed after the last message: io.EOF
	out    chan []byte
	closed chan struct{}
	once   sync.Once
}

func newHalfClosedConn(msgs ...[]byte) *halfClosedConn {
	c := &halfClosedConn{in: make(chan []byte, len(msgs)), out: make(chan []byte, 16), closed: make(chan struct{})}
	for _, m := range msgs {
		c.in <- m
	}
	close(c.in)
	return c
}

func (c *halfClosedConn) Send(ctx context.Context, msg []byte) error {
	select {
	case c.out <- append([]byte(nil), msg...):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closed:
		return transport.ErrClosed
	}
}

func (c *halfClosedConn) Recv(ctx context.Context) ([]byte, error) {
	select {
	case m, ok := <-c.in:
		if !ok {
			return nil, io.EOF
		}
		return m, nil
	case <-c.closed:
		return nil, transport.ErrClosed
	}
}

func (c *halfClosedConn) LocalAddr() net.Addr  { return netsim.Addr("client") }
func (c *halfClosedConn) RemoteAddr() net.Addr { return netsim.Addr("server") }

func (c *halfClosedConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// rawRequest is a request for method with args, built by hand as a
// client of another language (or a hostile one) would.
func rawRequest(seq uint64, method string, args any) []byte {
	body, err := rpc.NewGobCodec().Append(nil, args)
	if err != nil {
		panic(err)
	}
	msg := []byte{1, 1, 0} // version, request, no flags
	msg = binary.AppendUvarint(msg, seq)
	msg = binary.AppendUvarint(msg, uint64(len(method)))
	msg = append(msg, method...)
	msg = binary.AppendUvarint(msg, uint64(len("gob")))
	msg = append(msg, "gob"...)
	return append(msg, body...)
}

// parseRawReply decodes a plain reply (no error, epoch or metadata) to
// call seq into reply.
func parseRawReply(t *testing.T, msg []byte, seq uint64, reply any) {
	t.Helper()
	require.GreaterOrEqual(t, len(msg), 4)
	require.Equal(t, []byte{1, 2, 0}, msg[:3], "a plain reply")
	got, n := binary.Uvarint(msg[3:])
	require.Equal(t, seq, got)
	require.NoError(t, rpc.NewGobCodec().Decode(msg[3+n:], reply))
}

// TestHalfClosedClientGetsItsReply checks that a client that has sent its
// last request (and half-closed, as net/rpc's tests do) still gets the
// replies of its calls in flight: the server's reading end is done, its
// writing end is not.
func TestHalfClosedClientGetsItsReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newArith()
		srv := rpc.NewServer()
		defer srv.Close()
		require.NoError(t, srv.Register(svc))
		conn := newHalfClosedConn(rawRequest(1, "Arith.Wait", &Args{A: 7}))
		served := make(chan struct{})
		go func() { defer close(served); srv.ServeConn(conn) }()

		<-svc.entered
		synctest.Wait() // the server has read io.EOF
		close(svc.release)
		var r Reply
		parseRawReply(t, <-conn.out, 1, &r)
		assert.Equal(t, 7, r.C)
		<-served
	})
}

// TestHalfCloseOverTCP is TestHalfClosedClientGetsItsReply on a real TCP
// connection, half-closed with CloseWrite. (Whether the server reads the
// FIN before the handler returns is up to the scheduler here; the test
// above pins that order down.)
func TestHalfCloseOverTCP(t *testing.T) {
	l, err := transport.ListenTCP("127.0.0.1:0")
	require.NoError(t, err)
	svc, _ := startServerWith(t, l)
	nc, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	conn := transport.NewConn(nc)
	defer conn.Close()
	ctx := testContext(t)
	require.NoError(t, conn.Send(ctx, rawRequest(1, "Arith.Wait", &Args{A: 7})))
	<-svc.entered
	// Flush the request before the FIN: the transport writes from a
	// goroutine of its own.
	require.NoError(t, conn.Send(ctx, rawRequest(2, "Arith.Add", &Args{A: 1, B: 1})))
	var r Reply
	msg, err := conn.Recv(ctx)
	require.NoError(t, err)
	parseRawReply(t, msg, 2, &r)
	require.NoError(t, nc.(*net.TCPConn).CloseWrite())
	close(svc.release)
	msg, err = conn.Recv(ctx)
	require.NoError(t, err, "the reply of the call in flight arrives")
	parseRawReply(t, msg, 1, &r)
	assert.Equal(t, 7, r.C)
}

// TestClientCloseCancelsItsCalls checks that a client's Close reaches the
// server, which cancels the calls it still runs for that client.
func TestClientCloseCancelsItsCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startEnv(t, simNetwork())
		c := e.dial()
		call := c.Go(t.Context(), "Arith.Wait", &Args{}, new(Reply), nil)
		e.entered(1)
		require.NoError(t, c.Close())
		require.ErrorIs(t, (<-call.Done).Error, rpc.ErrClosed)
		synctest.Wait()
		assert.EqualValues(t, 1, e.svc.ended.Load(), "the handler's context ended")
	})
}
