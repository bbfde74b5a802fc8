package netsim_test

import (
	"context"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// recvNow returns the next message if one is there within a virtual
// millisecond, and "" if none is.
func recvNow(t *testing.T, c transport.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	msg, err := c.Recv(ctx)
	if err != nil {
		require.ErrorIs(t, err, context.DeadlineExceeded)
		return ""
	}
	return string(msg)
}

func TestHeldCopiesWaitForRelease(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: 10 * time.Millisecond}))
		a, b := pipe(t, n, "a", "b")
		ctx := context.Background()
		n.Hold()
		for _, m := range []string{"one", "two", "three"} {
			require.NoError(t, a.Send(ctx, []byte(m)))
		}
		time.Sleep(time.Hour) // virtual: long past their delay
		assert.Equal(t, "", recvNow(t, b), "held")
		s := n.State()
		assert.True(t, s.Holding)
		assert.Equal(t, 3, s.Held)
		assert.Zero(t, n.LinkStats("a", "b").Delivered)

		assert.Equal(t, 1, n.Release(1))
		assert.Equal(t, "one", recvNow(t, b))
		assert.Equal(t, "", recvNow(t, b), "one at a time")
		assert.Equal(t, 2, n.Release(5), "fewer were held")
		assert.Equal(t, "two", recvNow(t, b))
		assert.Equal(t, "three", recvNow(t, b))
		assert.Zero(t, n.Release(1), "nothing is held")
		assert.Zero(t, n.Release(0))

		n.Resume()
		require.NoError(t, a.Send(ctx, []byte("four")))
		time.Sleep(10 * time.Millisecond)
		assert.Equal(t, "four", recvNow(t, b), "delivered on arrival again")
		assert.False(t, n.State().Holding)
	})
}

func TestResumeDeliversEveryHeldCopyInOrder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		a, b := pipe(t, n, "a", "b")
		ctx := context.Background()
		n.Hold()
		for i := range 100 {
			require.NoError(t, a.Send(ctx, payload(uint64(i))))
		}
		n.Resume()
		for i := range 100 {
			msg, err := b.Recv(ctx)
			require.NoError(t, err)
			id, ok := parse(msg)
			require.True(t, ok)
			require.EqualValues(t, i, id)
		}
	})
}

// A copy's fate is decided when it lands: a partition made while it is
// held catches it on release.
func TestPartitionCatchesHeldCopies(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		n := newNetwork(t, 1, netsim.WithObserver(rec.observe))
		a, b := pipe(t, n, "a", "b")
		n.Hold()
		require.NoError(t, a.Send(context.Background(), []byte("held")))
		n.Partition([]string{"a"}, []string{"b"})
		assert.Equal(t, 1, n.Release(1), "a dropped copy is released too")
		assert.Equal(t, "", recvNow(t, b))
		msgs := rec.messages()
		last := msgs[len(msgs)-1]
		assert.Equal(t, netsim.EventDrop, last.Kind)
		assert.Equal(t, netsim.ReasonPartition, last.Reason)
	})
}

// An end of stream is held with the messages before it, so a paused
// receiver never sees EOF before the last message.
func TestEndOfStreamStaysBehindHeldMessages(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		a, b := pipe(t, n, "a", "b")
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n.Hold()
		require.NoError(t, a.Send(ctx, []byte("last words")))
		require.NoError(t, a.Close())
		_, err := b.Recv(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded, "neither the message nor EOF has landed")
		require.Equal(t, 1, n.Release(1))
		msg, err := b.Recv(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "last words", string(msg))
		_, err = b.Recv(context.Background())
		assert.ErrorIs(t, err, io.EOF, "the end of stream behind it went through with it")
	})
}

func TestCloseDropsHeldCopies(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		n := netsim.NewNetwork(1, netsim.WithObserver(rec.observe))
		pa, err := n.ListenPacket("a")
		require.NoError(t, err)
		_, err = n.ListenPacket("b")
		require.NoError(t, err)
		n.Hold()
		for range 3 {
			_, err := pa.WriteTo([]byte("held"), netsim.Addr("b"))
			require.NoError(t, err)
		}
		require.NoError(t, n.Close())
		s := n.LinkStats("a", "b")
		assert.EqualValues(t, 3, s.Dropped)
		assert.Equal(t, s.Sent, s.Delivered+s.Dropped)
		assert.Equal(t, 3, rec.count(netsim.EventDrop))
		for _, e := range rec.messages() {
			if e.Kind == netsim.EventDrop {
				assert.Equal(t, netsim.ReasonClosed, e.Reason)
			}
		}
		n.Hold() // after Close: does nothing
		assert.False(t, n.State().Holding)
	})
}
