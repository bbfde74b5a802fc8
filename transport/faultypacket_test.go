package transport_test

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

// recordingPacketConn is a fake socket that records what is written to it.
type recordingPacketConn struct {
	mu      sync.Mutex
	written [][]byte
	at      []time.Time
}

func (r *recordingPacketConn) WriteTo(p []byte, _ net.Addr) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.written = append(r.written, append([]byte(nil), p...))
	r.at = append(r.at, time.Now())
	return len(p), nil
}
func (r *recordingPacketConn) ReadFrom([]byte) (int, net.Addr, error) { return 0, nil, net.ErrClosed }
func (r *recordingPacketConn) Close() error                           { return nil }
func (r *recordingPacketConn) LocalAddr() net.Addr                    { return &net.UDPAddr{} }
func (r *recordingPacketConn) SetDeadline(time.Time) error            { return nil }
func (r *recordingPacketConn) SetReadDeadline(time.Time) error        { return nil }
func (r *recordingPacketConn) SetWriteDeadline(time.Time) error       { return nil }

func (r *recordingPacketConn) snapshot() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.written...)
}

func TestFaultyPacketConnWritesWhatThePlanSays(t *testing.T) {
	rec := &recordingPacketConn{}
	fp, err := transport.NewFaultyPacketConn(rec, transport.Faults{Drop: 0.25, Duplicate: 0.1, Corrupt: 0.05, Seed: 9})
	require.NoError(t, err)
	defer fp.Close()
	const n = 4000
	payload := []byte("datagram payload")
	for range n {
		k, err := fp.WriteTo(payload, &net.UDPAddr{})
		require.NoError(t, err, "a dropped datagram is reported as written")
		require.Equal(t, len(payload), k)
	}
	s := fp.Stats()
	got := rec.snapshot()
	assert.Len(t, got, int(s.Delivered))
	assert.InDelta(t, 0.25, float64(s.Dropped)/n, 0.03)
	corrupted := 0
	for _, d := range got {
		if !bytes.Equal(d, payload) {
			corrupted++
		}
	}
	assert.Equal(t, int(s.Corrupted), corrupted)
	assert.Positive(t, corrupted)
}

func TestFaultyPacketConnDelaysInVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingPacketConn{}
		fp, err := transport.NewFaultyPacketConn(rec, transport.Faults{Delay: 200 * time.Millisecond})
		require.NoError(t, err)
		defer fp.Close()
		start := time.Now()
		_, err = fp.WriteTo([]byte("a"), &net.UDPAddr{})
		require.NoError(t, err)
		synctest.Wait()
		assert.Empty(t, rec.snapshot(), "nothing is written before the delay")
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		require.Len(t, rec.snapshot(), 1)
		assert.Equal(t, 200*time.Millisecond, rec.at[0].Sub(start))
	})
}

// TestFaultyPacketConnOverRealUDP sends through a real loopback socket. UDP
// may itself lose a datagram under load, so the check is one-sided: nothing
// the faults dropped arrives, and duplicates do.
func TestFaultyPacketConnOverRealUDP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recv, err := transport.ListenUDP("127.0.0.1:0")
	require.NoError(t, err)
	defer recv.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	fp, err := transport.NewFaultyPacketConn(pc, transport.Faults{Drop: 0.5, Duplicate: 0.5, Seed: 1})
	require.NoError(t, err)
	send := transport.NewEndpoint(fp)
	defer send.Close()

	const n = 200
	for i := range n {
		require.NoError(t, send.SendTo(ctx, numbered(i), recv.LocalAddr()))
	}
	s := fp.Stats()
	require.NoError(t, fp.SetFaults(transport.Faults{})) // the end marker gets through
	require.NoError(t, send.SendTo(ctx, []byte("end"), recv.LocalAddr()))

	seen := map[string]int{}
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	for {
		msg, _, err := recv.RecvFrom(short)
		if err != nil || string(msg) == "end" {
			break
		}
		seen[string(msg)]++
	}
	total := 0
	dups := 0
	for _, k := range seen {
		total += k
		if k > 1 {
			dups++
		}
	}
	assert.LessOrEqual(t, total, int(s.Delivered))
	assert.Less(t, len(seen), n, "some datagrams were dropped")
	assert.Positive(t, dups, "some datagrams arrived twice")
}

func TestFaultyPacketConnPassesBufferSizesThrough(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	fp, err := transport.NewFaultyPacketConn(pc, transport.Faults{})
	require.NoError(t, err)
	defer fp.Close()
	require.NoError(t, fp.SetReadBuffer(1<<20))
	require.NoError(t, fp.SetWriteBuffer(1<<20))

	fake, err := transport.NewFaultyPacketConn(&recordingPacketConn{}, transport.Faults{})
	require.NoError(t, err)
	require.Error(t, fake.SetReadBuffer(1<<20), "a socket without buffers says so")
}
