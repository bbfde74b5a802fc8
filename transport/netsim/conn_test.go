package netsim_test

import (
	"context"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

func TestDialWithoutListenerRefused(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	_, err := n.Dial(testContext(t), "a", "b")
	require.ErrorIs(t, err, netsim.ErrConnRefused)
	assert.EqualError(t, err, "dial a -> b: netsim: connection refused")
}

func TestListenTwiceAddrInUse(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	l, err := n.Listen("a")
	require.NoError(t, err)
	_, err = n.Listen("a")
	require.ErrorIs(t, err, netsim.ErrAddrInUse)
	require.NoError(t, l.Close())
	l, err = n.Listen("a") // free again
	require.NoError(t, err)
	require.NoError(t, l.Close())
}

func TestEmptyNodeNameRefused(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	ctx := testContext(t)
	_, err := n.Listen("")
	assert.ErrorIs(t, err, netsim.ErrInvalidNode)
	_, err = n.ListenPacket("")
	assert.ErrorIs(t, err, netsim.ErrInvalidNode)
	_, err = n.Dial(ctx, "a", "")
	assert.ErrorIs(t, err, netsim.ErrInvalidNode)
	_, err = n.Dialer("").Dial(ctx, "b")
	assert.ErrorIs(t, err, netsim.ErrInvalidNode)
}

func TestAddressesAreNodeNames(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	l, err := n.Listen("server")
	require.NoError(t, err)
	defer l.Close()
	assert.Equal(t, netsim.Addr("server"), l.Addr())
	c, err := n.Dialer("client").Dial(testContext(t), "server")
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "client", c.LocalAddr().String())
	assert.Equal(t, "server", c.RemoteAddr().String())
	assert.Equal(t, "netsim", c.LocalAddr().Network())
}

func TestMessagesAreCopied(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	require.NoError(t, n.SetFaults("a", "b", transport.Faults{Duplicate: 1}))
	a, b := pipe(t, n, "a", "b")
	ctx := testContext(t)
	msg := []byte("original")
	require.NoError(t, a.Send(ctx, msg))
	copy(msg, "mutated!") // the sender reuses its buffer
	first, err := b.Recv(ctx)
	require.NoError(t, err)
	copy(first, "scribble") // the receiver scribbles on its copy
	second, err := b.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "original", string(second), "each copy is its receiver's own")
}

func TestPeerCloseThenSendIsReset(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	a, b := pipe(t, n, "a", "b")
	ctx := testContext(t)
	require.NoError(t, b.Send(ctx, []byte("last words")))
	require.NoError(t, b.Close())

	msg, err := a.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "last words", string(msg))
	_, err = a.Recv(ctx)
	require.ErrorIs(t, err, io.EOF)

	require.NoError(t, a.Send(ctx, []byte("are you there?")), "the reset comes back later")
	require.ErrorIs(t, a.Send(ctx, []byte("hello?")), netsim.ErrConnReset)
	_, err = a.Recv(ctx)
	require.ErrorIs(t, err, netsim.ErrConnReset)
	assert.EqualValues(t, 1, n.LinkStats("a", "b").Dropped)
}

func TestListenerCloseResetsUnacceptedConns(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	ctx := testContext(t)
	l, err := n.Listen("s")
	require.NoError(t, err)
	c, err := n.Dial(ctx, "c", "s")
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, l.Close())
	_, err = c.Recv(ctx)
	require.ErrorIs(t, err, netsim.ErrConnReset)
}

func TestListenerCloseLeavesAcceptedConnsOpen(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	ctx := testContext(t)
	l, err := n.Listen("s")
	require.NoError(t, err)
	c, err := n.Dial(ctx, "c", "s")
	require.NoError(t, err)
	defer c.Close()
	s, err := l.Accept(ctx)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, l.Close())
	require.NoError(t, c.Send(ctx, []byte("still here")))
	msg, err := s.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "still here", string(msg))
}

func TestNetworkCloseClosesEverything(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(1)
		ctx := context.Background()
		a, b := pipe(t, n, "a", "b")
		l, err := n.Listen("s")
		require.NoError(t, err)
		pc, err := n.ListenPacket("p")
		require.NoError(t, err)
		n.Partition([]string{"x"})

		recvErr := recvAsync(ctx, a)
		acceptErr := make(chan error, 1)
		go func() { _, err := l.Accept(ctx); acceptErr <- err }()
		readErr := make(chan error, 1)
		go func() { _, _, err := pc.ReadFrom(nil); readErr <- err }()
		dialErr := make(chan error, 1)
		go func() { _, err := n.Dial(ctx, "x", "s"); dialErr <- err }() // waits: x is cut off
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: time.Hour}))
		require.NoError(t, b.Send(ctx, []byte("in flight")))
		synctest.Wait()

		require.NoError(t, n.Close())
		require.NoError(t, n.Close(), "idempotent")
		for name, err := range map[string]error{"recv": <-recvErr, "accept": <-acceptErr, "read": <-readErr, "dial": <-dialErr} {
			assert.ErrorIs(t, err, netsim.ErrNetworkClosed, name)
			assert.ErrorIs(t, err, net.ErrClosed, name)
		}
		assert.ErrorIs(t, b.Send(ctx, nil), netsim.ErrNetworkClosed)
		_, err = n.Listen("t")
		assert.ErrorIs(t, err, netsim.ErrNetworkClosed)
		_, err = n.ListenPacket("t")
		assert.ErrorIs(t, err, netsim.ErrNetworkClosed)
		assert.EqualValues(t, 1, n.LinkStats("b", "a").Dropped, "the message in flight is dropped")
	})
}

func TestConcurrentRecvsShareTheMessages(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	a, b := pipe(t, n, "a", "b")
	ctx := testContext(t)
	const receivers, count = 4, 1000
	got := make(chan int, receivers)
	for range receivers {
		go func() {
			k := 0
			for {
				if _, err := b.Recv(ctx); err != nil {
					got <- k
					return
				}
				k++
			}
		}()
	}
	for i := range count {
		require.NoError(t, a.Send(ctx, payload(uint64(i))))
	}
	require.NoError(t, a.Close())
	total := 0
	for range receivers {
		total += <-got
	}
	assert.Equal(t, count, total)
}

// A crashed peer is silent: in virtual time, the Recv of its partner ends
// exactly at its deadline.
func TestCrashedPeerIsSilentUntilTheDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		c, _ := pipe(t, n, "client", "server")
		n.Crash("server")
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, c.Send(ctx, []byte("request")))
		_, err := c.Recv(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 10*time.Second, time.Since(start))
	})
}

func TestDialWithDoneContextFails(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	l, err := n.Listen("s")
	require.NoError(t, err)
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = n.Dial(ctx, "c", "s")
	require.ErrorIs(t, err, context.Canceled)
}
