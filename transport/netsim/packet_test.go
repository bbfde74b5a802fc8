package netsim_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

func listenPacket(tb testing.TB, n *netsim.Network, node string) net.PacketConn {
	tb.Helper()
	pc, err := n.ListenPacket(node)
	require.NoError(tb, err)
	tb.Cleanup(func() { pc.Close() })
	return pc
}

// otherAddr is a net.Addr of some other package: WriteTo only needs its
// String to name a node.
type otherAddr struct{ name string }

func (a otherAddr) Network() string { return "other" }
func (a otherAddr) String() string  { return a.name }

func TestPacketConnExchangesDatagrams(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	a, b := listenPacket(t, n, "a"), listenPacket(t, n, "b")
	assert.Equal(t, netsim.Addr("a"), a.LocalAddr())

	k, err := a.WriteTo([]byte("ping"), otherAddr{"b"})
	require.NoError(t, err)
	assert.Equal(t, 4, k)
	buf := make([]byte, 100)
	k, from, err := b.ReadFrom(buf)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(buf[:k]))
	assert.Equal(t, netsim.Addr("a"), from)

	_, err = b.WriteTo([]byte("pong"), from) // reply to the address ReadFrom gave
	require.NoError(t, err)
	k, _, err = a.ReadFrom(buf)
	require.NoError(t, err)
	assert.Equal(t, "pong", string(buf[:k]))
}

func TestPacketReadTruncatesToTheBuffer(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	a, b := listenPacket(t, n, "a"), listenPacket(t, n, "b")
	_, err := a.WriteTo([]byte("0123456789"), netsim.Addr("b"))
	require.NoError(t, err)
	_, err = a.WriteTo([]byte("next"), netsim.Addr("b"))
	require.NoError(t, err)
	buf := make([]byte, 4)
	k, _, err := b.ReadFrom(buf)
	require.NoError(t, err)
	assert.Equal(t, "0123", string(buf[:k]))
	k, _, err = b.ReadFrom(buf)
	require.NoError(t, err)
	assert.Equal(t, "next", string(buf[:k]), "the rest of the first datagram is gone")
}

func TestPacketWriteRefusesBadInput(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	a := listenPacket(t, n, "a")
	_, err := a.WriteTo(make([]byte, transport.MaxDatagramSize+1), netsim.Addr("b"))
	assert.ErrorIs(t, err, transport.ErrMessageTooLarge)
	_, err = a.WriteTo([]byte("x"), nil)
	assert.Error(t, err)
	_, err = a.WriteTo([]byte("x"), netsim.Addr(""))
	assert.ErrorIs(t, err, netsim.ErrInvalidNode)
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr)
}

func TestPacketToNodeWithoutPacketConnVanishes(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	n := newNetwork(t, 1, netsim.WithObserver(rec.observe))
	a := listenPacket(t, n, "a")
	k, err := a.WriteTo([]byte("hello?"), netsim.Addr("nobody"))
	require.NoError(t, err, "UDP does not tell")
	assert.Equal(t, 6, k)
	require.Equal(t, 1, rec.count(netsim.EventDrop))
	assert.Equal(t, netsim.ReasonClosed, rec.messages()[len(rec.messages())-1].Reason)
}

func TestListenPacketTwiceAddrInUse(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	listenPacket(t, n, "a")
	_, err := n.ListenPacket("a")
	require.ErrorIs(t, err, netsim.ErrAddrInUse)
}

func TestPacketCloseUnblocksRead(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	pc, err := n.ListenPacket("a")
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() { _, _, err := pc.ReadFrom(make([]byte, 10)); errc <- err }()
	require.NoError(t, pc.Close())
	err = <-errc
	require.ErrorIs(t, err, net.ErrClosed)
	require.ErrorIs(t, err, transport.ErrClosed)
	require.NoError(t, pc.Close(), "idempotent")
	_, err = pc.WriteTo([]byte("x"), netsim.Addr("a"))
	require.ErrorIs(t, err, net.ErrClosed)
	require.ErrorIs(t, pc.SetDeadline(time.Now()), net.ErrClosed)
}

func TestPacketReadDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		pc := listenPacket(t, n, "a")
		start := time.Now()
		require.NoError(t, pc.SetReadDeadline(start.Add(time.Second)))
		_, _, err := pc.ReadFrom(make([]byte, 10))
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		assert.True(t, os.IsTimeout(err))
		var netErr net.Error
		require.ErrorAs(t, err, &netErr)
		assert.True(t, netErr.Timeout())
		assert.Equal(t, time.Second, time.Since(start))

		// Past deadlines fail at once, even with a datagram waiting;
		// clearing the deadline reads it.
		_, err = pc.WriteTo([]byte("x"), netsim.Addr("a"))
		require.NoError(t, err)
		_, _, err = pc.ReadFrom(make([]byte, 10))
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.NoError(t, pc.SetReadDeadline(time.Time{}))
		_, _, err = pc.ReadFrom(make([]byte, 10))
		require.NoError(t, err)
	})
}

func TestPacketDeadlineMovedWhileReading(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		pc := listenPacket(t, n, "a")
		start := time.Now()
		require.NoError(t, pc.SetReadDeadline(start.Add(time.Second)))
		errc := make(chan error, 1)
		go func() { _, _, err := pc.ReadFrom(make([]byte, 10)); errc <- err }()
		time.Sleep(500 * time.Millisecond)
		require.NoError(t, pc.SetReadDeadline(start.Add(3*time.Second))) // later: the read waits longer
		require.ErrorIs(t, <-errc, os.ErrDeadlineExceeded)
		assert.Equal(t, 3*time.Second, time.Since(start))

		go func() { _, _, err := pc.ReadFrom(make([]byte, 10)); errc <- err }()
		time.Sleep(time.Second)
		require.NoError(t, pc.SetReadDeadline(time.Now())) // now: the read ends now
		require.ErrorIs(t, <-errc, os.ErrDeadlineExceeded)
		assert.Equal(t, 4*time.Second, time.Since(start))
	})
}

func TestPacketWriteDeadline(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	pc := listenPacket(t, n, "a")
	require.NoError(t, pc.SetWriteDeadline(time.Now().Add(-time.Second)))
	_, err := pc.WriteTo([]byte("x"), netsim.Addr("a"))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.NoError(t, pc.SetWriteDeadline(time.Time{}))
	_, err = pc.WriteTo([]byte("x"), netsim.Addr("a"))
	require.NoError(t, err)
}

// The packet conn is faithful enough for code written against real UDP
// sockets: transport.Endpoint interrupts reads with deadlines to honour
// its ctx, and that works here too.
func TestEndpointOverPacketConn(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: 100 * time.Millisecond}))
		pa, err := n.ListenPacket("a")
		require.NoError(t, err)
		pb, err := n.ListenPacket("b")
		require.NoError(t, err)
		a, b := transport.NewEndpoint(pa), transport.NewEndpoint(pb)
		defer a.Close()
		defer b.Close()

		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, _, err = b.RecvFrom(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)

		require.NoError(t, a.SendTo(context.Background(), []byte("over netsim"), netsim.Addr("b")))
		msg, from, err := b.RecvFrom(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "over netsim", string(msg))
		assert.Equal(t, "a", from.String())
	})
}

func TestPacketFaultsAndCrash(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 11)
		require.NoError(t, n.SetFaults("a", "b", transport.Faults{Drop: 0.5}))
		a, b := listenPacket(t, n, "a"), listenPacket(t, n, "b")
		for range 1000 {
			_, err := a.WriteTo([]byte("x"), netsim.Addr("b"))
			require.NoError(t, err)
		}
		s := n.LinkStats("a", "b")
		within(t, "dropped", s.Dropped, 1000, 0.5)
		got := 0
		require.NoError(t, b.SetReadDeadline(time.Now().Add(time.Second)))
		for {
			_, _, err := b.ReadFrom(make([]byte, 1))
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			require.NoError(t, err)
			got++
		}
		assert.EqualValues(t, s.Delivered, got)

		n.Crash("b")
		_, _, err := b.ReadFrom(nil)
		require.ErrorIs(t, err, netsim.ErrCrashed)
		n.Restart("b")
		b2 := listenPacket(t, n, "b") // a new socket gets new datagrams
		require.NoError(t, n.SetFaults("a", "b", transport.Faults{}))
		_, err = a.WriteTo([]byte("again"), netsim.Addr("b"))
		require.NoError(t, err)
		buf := make([]byte, 10)
		k, _, err := b2.ReadFrom(buf)
		require.NoError(t, err)
		assert.Equal(t, "again", string(buf[:k]))
	})
}
