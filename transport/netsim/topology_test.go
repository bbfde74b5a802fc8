package netsim_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// sendEverywhere writes one datagram from every node to every node,
// itself included, and returns the packet conns.
func sendEverywhere(t *testing.T, pcs map[string]net.PacketConn) {
	t.Helper()
	for from, pc := range pcs {
		for to := range pcs {
			_, err := pc.WriteTo([]byte(from+"->"+to), netsim.Addr(to))
			require.NoError(t, err)
		}
	}
}

func TestPartitionBlocksExactlyTheCrossGroupPairs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		nodes := []string{"a", "b", "c", "d", "e"}
		pcs := map[string]net.PacketConn{}
		for _, name := range nodes {
			pc, err := n.ListenPacket(name)
			require.NoError(t, err)
			t.Cleanup(func() { pc.Close() })
			pcs[name] = pc
		}
		// e is named in no group: it is in a group of its own (with any
		// other node named nowhere).
		group := map[string]int{"a": 1, "b": 1, "c": 2, "d": 2, "e": 0}
		n.Partition([]string{"a", "b"}, []string{"c", "d"})
		sendEverywhere(t, pcs)
		time.Sleep(3 * time.Second) // virtual: the partition lasts 3 s
		n.Heal()
		sendEverywhere(t, pcs)

		for _, from := range nodes {
			for _, to := range nodes {
				s := n.LinkStats(from, to)
				together := group[from] == group[to]
				if together {
					assert.EqualValues(t, 2, s.Delivered, "%s -> %s, same group: delivered", from, to)
					assert.Zero(t, s.Partitioned, "%s -> %s: partitioned", from, to)
				} else {
					assert.EqualValues(t, 1, s.Delivered, "%s -> %s, across the cut: delivered after Heal only", from, to)
					assert.EqualValues(t, 1, s.Dropped, "%s -> %s: dropped", from, to)
					assert.Equal(t, 3*time.Second, s.Partitioned, "%s -> %s: partitioned", from, to)
				}
			}
			assert.Equal(t, 3*time.Second, n.NodeStats(from).Partitioned, "node %s", from)
		}
	})
}

func TestPartitionLosesMessagesInFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		n := newNetwork(t, 1, netsim.WithObserver(rec.observe))
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: time.Second}))
		a, b := pipe(t, n, "a", "b")
		ctx := context.Background()
		require.NoError(t, a.Send(ctx, []byte("caught by the partition")))
		time.Sleep(500 * time.Millisecond)
		n.Partition([]string{"a"}, []string{"b"})
		time.Sleep(time.Second)
		n.Heal()
		require.NoError(t, a.Send(ctx, []byte("after heal")))
		msg, err := b.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "after heal", string(msg))

		require.Equal(t, 1, rec.count(netsim.EventDrop))
		for _, e := range rec.all() {
			if e.Kind == netsim.EventDrop {
				assert.Equal(t, netsim.ReasonPartition, e.Reason)
				assert.Equal(t, "caught by the partition", string(e.Msg))
			}
		}
	})
}

func TestDialWaitsForPartitionToHeal(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		l, err := n.Listen("server")
		require.NoError(t, err)
		defer l.Close()
		n.Partition([]string{"client"}, []string{"server"})

		// A Dial across the cut waits for its context ...
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err = n.Dial(ctx, "client", "server")
		require.ErrorIs(t, err, context.DeadlineExceeded)

		// ... or for the cut to heal.
		start := time.Now()
		go func() {
			time.Sleep(2 * time.Second)
			n.Heal()
		}()
		c, err := n.Dial(context.Background(), "client", "server")
		require.NoError(t, err)
		defer c.Close()
		assert.Equal(t, 2*time.Second, time.Since(start))
	})
}

func TestDisconnectCutsOneNodeOff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		ab, ba := pipe(t, n, "a", "b")
		_, bc := pipe(t, n, "c", "b")
		ac, ca := pipe(t, n, "a", "c")
		n.Disconnect("b")

		ctx := context.Background()
		require.NoError(t, ab.Send(ctx, []byte("lost")), "the sender is not told")
		require.NoError(t, bc.Send(ctx, []byte("lost")))
		require.NoError(t, ac.Send(ctx, []byte("a to c")))
		msg, err := ca.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "a to c", string(msg), "a and c still talk")

		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err = ba.Recv(short)
		require.ErrorIs(t, err, context.DeadlineExceeded, "b hears nothing")

		n.Reconnect("b")
		require.NoError(t, ab.Send(ctx, []byte("back")))
		msg, err = ba.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "back", string(msg), "the conn survived; the lost message stays lost")
	})
}

// recvAsync starts c.Recv(ctx) and returns a channel for its error.
func recvAsync(ctx context.Context, c transport.Conn) <-chan error {
	errc := make(chan error, 1)
	go func() {
		_, err := c.Recv(ctx)
		errc <- err
	}()
	return errc
}

func TestCrashClosesEverythingOfTheNode(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		n := newNetwork(t, 1, netsim.WithObserver(rec.observe))
		ctx := context.Background()
		l, err := n.Listen("s")
		require.NoError(t, err)
		peer, err := n.Dial(ctx, "c", "s") // dialed to s, accepted
		require.NoError(t, err)
		accepted, err := l.Accept(ctx)
		require.NoError(t, err)
		dialedOut, other := pipe(t, n, "s", "o") // dialed from s
		pc, err := n.ListenPacket("s")
		require.NoError(t, err)

		// Messages in flight both ways when s crashes.
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: time.Second}))
		require.NoError(t, peer.Send(ctx, []byte("to s")))
		require.NoError(t, dialedOut.Send(ctx, []byte("from s")))

		acceptErr := make(chan error, 1)
		go func() { _, err := l.Accept(ctx); acceptErr <- err }()
		recvErr := recvAsync(ctx, accepted)
		readErr := make(chan error, 1)
		go func() { _, _, err := pc.ReadFrom(make([]byte, 10)); readErr <- err }()
		synctest.Wait()

		n.Crash("s")
		for name, err := range map[string]error{"accept": <-acceptErr, "recv": <-recvErr, "read": <-readErr} {
			assert.ErrorIs(t, err, netsim.ErrCrashed, name)
			assert.ErrorIs(t, err, net.ErrClosed, name)
		}
		assert.ErrorIs(t, dialedOut.Send(ctx, []byte("x")), netsim.ErrCrashed)
		_, err = n.Listen("s")
		assert.ErrorIs(t, err, netsim.ErrCrashed)
		_, err = n.Dial(ctx, "s", "o")
		assert.ErrorIs(t, err, netsim.ErrCrashed)

		// The peers hear nothing: their conns stay open, their sends
		// vanish, their receives wait for their deadline.
		time.Sleep(2 * time.Second)
		require.NoError(t, peer.Send(ctx, []byte("into the void")))
		short, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err = other.Recv(short)
		require.ErrorIs(t, err, context.DeadlineExceeded, "the message from s died with it")
		_, err = peer.Recv(short)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		for _, e := range rec.all() {
			if e.Kind == netsim.EventDrop {
				assert.Equal(t, netsim.ReasonCrash, e.Reason, "%q", e.Msg)
			}
		}
		assert.Equal(t, 3, rec.count(netsim.EventDrop), "to s, from s, into the void")
		assert.Zero(t, rec.count(netsim.EventDeliver))
	})
}

func TestRestartedNodeResetsOldConns(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		ctx := context.Background()
		client, _ := pipe(t, n, "c", "s")
		n.Crash("s")
		n.Restart("s")
		l, err := n.Listen("s") // it may listen again
		require.NoError(t, err)
		defer l.Close()

		require.NoError(t, client.Send(ctx, []byte("anyone there?")))
		_, err = client.Recv(ctx)
		require.ErrorIs(t, err, netsim.ErrConnReset, "the restarted node forgot the conn")
		require.ErrorIs(t, client.Send(ctx, []byte("again")), netsim.ErrConnReset)

		// A new conn works.
		c2, err := n.Dial(ctx, "c", "s")
		require.NoError(t, err)
		defer c2.Close()
		s2, err := l.Accept(ctx)
		require.NoError(t, err)
		defer s2.Close()
		require.NoError(t, c2.Send(ctx, []byte("hello again")))
		msg, err := s2.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "hello again", string(msg))
	})
}

func TestDialToCrashedNodeWaitsForRestart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		n.Crash("s")
		go func() {
			time.Sleep(time.Second)
			n.Restart("s")
		}()
		start := time.Now()
		_, err := n.Dial(context.Background(), "c", "s")
		require.ErrorIs(t, err, netsim.ErrConnRefused, "up again, but not listening")
		assert.Equal(t, time.Second, time.Since(start))
	})
}

func TestPartitionPanicsOnNodeNamedTwice(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	assert.Panics(t, func() { n.Partition([]string{"a", "b"}, []string{"b"}) })
	assert.Panics(t, func() { n.Partition([]string{""}) })
	assert.Panics(t, func() { n.Crash("") })
}

// Crash, Restart, Partition and Heal race with traffic; nothing deadlocks
// or leaks, and every copy is accounted for.
func TestTopologyChangesRaceWithTraffic(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 9)
	require.NoError(t, n.SetDefaultFaults(transport.Faults{Jitter: 100 * time.Microsecond, Duplicate: 0.1}))
	ctx := testContext(t)
	l, err := n.Listen("s")
	require.NoError(t, err)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a server that echoes until it crashes, then listens again
		defer wg.Done()
		for {
			c, err := l.Accept(ctx)
			if err != nil {
				if errors.Is(err, netsim.ErrCrashed) {
					n.Restart("s")
					if l, err = n.Listen("s"); err == nil {
						continue
					}
				}
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				for {
					msg, err := c.Recv(ctx)
					if err != nil || c.Send(ctx, msg) != nil {
						return
					}
				}
			}()
		}
	}()
	for round := range 30 {
		c, err := n.Dial(ctx, "c", "s")
		if err != nil {
			continue // refused: the server is restarting
		}
		for i := range 20 {
			if c.Send(ctx, payload(uint64(i))) != nil {
				break
			}
		}
		switch round % 3 {
		case 0:
			n.Crash("s")
		case 1:
			n.Partition([]string{"c"}, []string{"s"})
			n.Heal()
		}
		c.Close()
	}
	require.NoError(t, n.Close())
	wg.Wait()
	s := n.LinkStats("c", "s")
	assert.Equal(t, s.Sent+s.Duplicated, s.Delivered+s.Dropped)
}

// Messages in flight to a node that crashes vanish, even if it is back
// before they would have arrived.
func TestMessagesInFlightToACrashVanishAfterRestart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		n := newNetwork(t, 1, netsim.WithObserver(rec.observe))
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: time.Second}))
		a := listenPacket(t, n, "a")
		listenPacket(t, n, "b")
		_, err := a.WriteTo([]byte("before the crash"), netsim.Addr("b"))
		require.NoError(t, err)
		n.Crash("b")
		n.Restart("b")
		b := listenPacket(t, n, "b")
		_, err = a.WriteTo([]byte("after the restart"), netsim.Addr("b"))
		require.NoError(t, err)

		buf := make([]byte, 100)
		k, _, err := b.ReadFrom(buf)
		require.NoError(t, err)
		assert.Equal(t, "after the restart", string(buf[:k]))
		drops := 0
		for _, e := range rec.all() {
			if e.Kind == netsim.EventDrop {
				drops++
				assert.Equal(t, netsim.ReasonCrash, e.Reason)
				assert.Equal(t, "before the crash", string(e.Msg))
			}
		}
		assert.Equal(t, 1, drops)
	})
}

// Changing the topology of a closed network is harmless.
func TestTopologyAfterCloseIsHarmless(t *testing.T) {
	t.Parallel()
	n := netsim.NewNetwork(1)
	require.NoError(t, n.Close())
	n.Partition([]string{"a"}, []string{"b"})
	n.Heal()
	n.Disconnect("a")
	n.Reconnect("a")
	n.Crash("a")
	n.Restart("a")
	_, err := n.Dial(testContext(t), "a", "b")
	require.ErrorIs(t, err, netsim.ErrNetworkClosed)
}
