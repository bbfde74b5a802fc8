package netsim_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// A 1000 B/s link takes 100 ms per 100-byte message: ten sent at once
// arrive one every 100 ms, after the link's delay.
func TestBandwidthPacesMessages(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		require.NoError(t, n.SetLimits("a", "b", netsim.Limits{Bandwidth: 1000}))
		require.NoError(t, n.SetFaults("a", "b", transport.Faults{Delay: 50 * time.Millisecond}))
		a, b := pipe(t, n, "a", "b")
		ctx := context.Background()
		start := time.Now()
		for range 10 {
			require.NoError(t, a.Send(ctx, make([]byte, 100)))
		}
		assert.Zero(t, time.Since(start), "no queue limit: Send does not wait")
		for i := range 10 {
			_, err := b.Recv(ctx)
			require.NoError(t, err)
			want := time.Duration(i+1)*100*time.Millisecond + 50*time.Millisecond
			assert.Equal(t, want, time.Since(start), "message %d", i)
		}
	})
}

// With a queue of 300 bytes on a 1000 B/s link, a conn's Send waits until
// its message fits: the sender is held to the link's pace.
func TestQueueLimitHoldsConnSendBack(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		require.NoError(t, n.SetLimits("a", "b", netsim.Limits{Bandwidth: 1000, Queue: 300}))
		a, b := pipe(t, n, "a", "b")
		ctx := context.Background()
		start := time.Now()
		var sentAt []time.Duration
		for range 6 {
			require.NoError(t, a.Send(ctx, make([]byte, 100)))
			sentAt = append(sentAt, time.Since(start))
		}
		ms := time.Millisecond
		assert.Equal(t, []time.Duration{0, 0, 0, 100 * ms, 200 * ms, 300 * ms}, sentAt)

		// A Send waiting for room gives up when its ctx ends.
		short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, a.Send(short, make([]byte, 100)), context.DeadlineExceeded)
		for range 6 {
			_, err := b.Recv(ctx)
			require.NoError(t, err)
		}
	})
}

// The same queue drops datagrams that do not fit, as a router does.
func TestQueueLimitDropsDatagrams(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		n := newNetwork(t, 1, netsim.WithObserver(rec.observe))
		require.NoError(t, n.SetLimits("a", "b", netsim.Limits{Bandwidth: 1000, Queue: 300}))
		a, _ := listenPacket(t, n, "a"), listenPacket(t, n, "b")
		for range 6 {
			_, err := a.WriteTo(make([]byte, 100), netsim.Addr("b"))
			require.NoError(t, err)
		}
		s := n.LinkStats("a", "b")
		assert.EqualValues(t, 3, s.Dropped)
		for _, e := range rec.all() {
			if e.Kind == netsim.EventDrop {
				assert.Equal(t, netsim.ReasonQueueFull, e.Reason)
			}
		}
		time.Sleep(time.Second) // virtual: the queue drains
		assert.EqualValues(t, 3, n.LinkStats("a", "b").Delivered)
	})
}

// A reader that does not keep up fills its packet conn's buffer; the rest
// is dropped.
func TestPacketBufferOverflowDrops(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1, netsim.WithPacketBuffer(1000))
	a, _ := listenPacket(t, n, "a"), listenPacket(t, n, "b")
	for range 15 {
		_, err := a.WriteTo(make([]byte, 100), netsim.Addr("b"))
		require.NoError(t, err)
	}
	s := n.LinkStats("a", "b")
	assert.EqualValues(t, 10, s.Delivered)
	assert.EqualValues(t, 5, s.Dropped)
}

// A slow reader slows its writer down: the window of a conn is full until
// the reader takes messages.
func TestWindowMakesASlowReaderSlowTheWriter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1, netsim.WithWindow(1000))
		a, b := pipe(t, n, "a", "b")
		ctx := context.Background()
		start := time.Now()
		readerDone := make(chan struct{})
		defer func() { <-readerDone }()
		defer b.Close() // ends the reader
		go func() {     // reads one message a second
			defer close(readerDone)
			for {
				time.Sleep(time.Second)
				if _, err := b.Recv(ctx); err != nil {
					return
				}
			}
		}()
		for range 13 {
			require.NoError(t, a.Send(ctx, make([]byte, 100)))
		}
		// Ten fit in the window at once; each of the other three waited
		// for the reader to take one.
		assert.Equal(t, 3*time.Second, time.Since(start))

		// A Send waiting for the window gives up when its ctx ends, and
		// Close unblocks it.
		short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, a.Send(short, make([]byte, 100)), context.DeadlineExceeded)
		errc := make(chan error, 1)
		go func() { errc <- a.Send(ctx, make([]byte, 100)) }()
		synctest.Wait()
		require.NoError(t, a.Close())
		require.ErrorIs(t, <-errc, transport.ErrClosed)
	})
}

func TestInvalidLimitsRefused(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	tests := []struct {
		name string
		give netsim.Limits
	}{
		{"NegativeBandwidth", netsim.Limits{Bandwidth: -1}},
		{"NegativeQueue", netsim.Limits{Bandwidth: 10, Queue: -1}},
		{"QueueWithoutBandwidth", netsim.Limits{Queue: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, n.SetLimits("a", "b", tt.give), netsim.ErrInvalidLimits)
		})
	}
	assert.NoError(t, n.SetLimits("a", "b", netsim.Limits{}))
}
