package transport_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

// faultyPipe returns a FaultyConn sending into a plain receiver, over
// net.Pipe. Inside a synctest bubble it lives in virtual time.
func faultyPipe(t *testing.T, f transport.Faults) (*transport.FaultyConn, transport.Conn) {
	t.Helper()
	x, y := net.Pipe()
	fc, err := transport.NewFaultyConn(transport.NewConn(x), f)
	require.NoError(t, err)
	rc := transport.NewConn(y)
	t.Cleanup(func() { fc.Close(); rc.Close() })
	return fc, rc
}

func numbered(i int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(i)) }

// recvAll receives numbered messages until the sender closes.
func recvAll(t *testing.T, c transport.Conn) []int {
	t.Helper()
	var got []int
	for {
		msg, err := c.Recv(context.Background())
		if errors.Is(err, io.EOF) {
			return got
		}
		require.NoError(t, err)
		require.Len(t, msg, 4)
		got = append(got, int(binary.BigEndian.Uint32(msg)))
	}
}

func TestFaultyConnDropsWhatItCountsAsDropped(t *testing.T) {
	fc, rc := faultyPipe(t, transport.Faults{Drop: 0.3, Duplicate: 0.1, Seed: 11})
	const n = 2000
	done := make(chan []int)
	go func() { done <- recvAll(t, rc) }()
	for i := range n {
		require.NoError(t, fc.Send(context.Background(), numbered(i)))
	}
	s := fc.Stats()
	require.NoError(t, fc.Close())
	got := <-done

	assert.Equal(t, int64(n), s.Messages)
	assert.Len(t, got, int(s.Delivered), "the receiver saw exactly the copies the faults let through")
	assert.InDelta(t, 0.3, float64(s.Dropped)/n, 0.04)
	assert.Positive(t, s.Duplicated)
	// No delay, so nothing is reordered: the numbers never go down.
	for i := 1; i < len(got); i++ {
		require.LessOrEqual(t, got[i-1], got[i])
	}
}

func TestFaultyConnSameSeedSameSchedule(t *testing.T) {
	run := func(seed int64) []int {
		var got []int
		synctest.Test(t, func(t *testing.T) {
			f := transport.Faults{Drop: 0.2, Duplicate: 0.2, Jitter: 30 * time.Millisecond, Reorder: 0.2, Seed: seed}
			fc, rc := faultyPipe(t, f)
			done := make(chan []int)
			go func() { done <- recvAll(t, rc) }()
			for i := range 300 {
				require.NoError(t, fc.Send(context.Background(), numbered(i)))
				time.Sleep(time.Millisecond) // virtual: spaces the sends so jitter reorders some
			}
			time.Sleep(time.Second) // virtual: every delayed message is delivered
			require.NoError(t, fc.Close())
			got = <-done
		})
		return got
	}
	first := run(5)
	assert.Equal(t, first, run(5), "same seed, same sequence of sends: same arrivals")
	assert.NotEqual(t, first, run(6))

	inversions := 0
	for i := 1; i < len(first); i++ {
		if first[i] < first[i-1] {
			inversions++
		}
	}
	assert.Positive(t, inversions, "jitter and reordering put some messages out of order")
}

func TestFaultyConnDelayTakesVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc, rc := faultyPipe(t, transport.Faults{Delay: 3 * time.Second})
		start := time.Now()
		require.NoError(t, fc.Send(context.Background(), []byte("late")))
		msg, err := rc.Recv(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "late", string(msg))
		assert.Equal(t, 3*time.Second, time.Since(start), "the message arrives exactly Delay later")
	})
}

func TestFaultyConnSetFaultsAppliesToLaterSends(t *testing.T) {
	fc, rc := faultyPipe(t, transport.Faults{Drop: 1})
	require.NoError(t, fc.Send(context.Background(), numbered(1))) // dropped
	require.ErrorIs(t, fc.SetFaults(transport.Faults{Drop: 2}), transport.ErrInvalidFaults)
	require.NoError(t, fc.SetFaults(transport.Faults{}))
	require.NoError(t, fc.Send(context.Background(), numbered(2)))
	msg, err := rc.Recv(context.Background())
	require.NoError(t, err)
	assert.Equal(t, numbered(2), msg)
	assert.Equal(t, int64(1), fc.Stats().Dropped)
}

func TestFaultyConnRejectsInvalidFaults(t *testing.T) {
	x, y := net.Pipe()
	c := transport.NewConn(x)
	defer c.Close()
	defer y.Close()
	_, err := transport.NewFaultyConn(c, transport.Faults{Corrupt: -1})
	require.ErrorIs(t, err, transport.ErrInvalidFaults)
}

func TestFaultyConnCloseDiscardsHeldBackMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc, rc := faultyPipe(t, transport.Faults{Delay: time.Hour})
		require.NoError(t, fc.Send(context.Background(), []byte("in flight")))
		require.NoError(t, fc.Close()) // returns without waiting an hour
		_, err := rc.Recv(context.Background())
		require.ErrorIs(t, err, io.EOF, "the held-back message was lost, as on a network")
	})
}
