package reliable_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/reliable"
)

// memPipe connects a dialer ("client") and the conn a listener ("server")
// accepted for it over a memNet, with faults on what each end sends (each
// end's seed derived from faults.Seed). Call it inside a synctest bubble.
// Both conns are closed at cleanup; the listener is closed already.
func memPipe(t *testing.T, n *memNet, cfg reliable.Config, faults transport.Faults) (client, server *reliable.Conn) {
	t.Helper()
	ctx := t.Context()
	sf, cf := faults, faults
	sf.Seed, cf.Seed = 2*faults.Seed+1, 2*faults.Seed+2
	l, err := reliable.ListenPacket(n.faulty(t, "server", sf), cfg)
	require.NoError(t, err)
	defer l.Close()
	accepted := make(chan transport.Conn, 1)
	go func() {
		c, err := l.Accept(ctx)
		if err != nil {
			t.Errorf("accept: %v", err)
		}
		accepted <- c
	}()
	client, err = reliable.DialPacket(ctx, n.faulty(t, "client", cf), memAddr("server"), cfg)
	require.NoError(t, err)
	s := <-accepted
	require.NotNil(t, s)
	server = s.(*reliable.Conn)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// payload is message i of a stream: its size and bytes follow from the
// stream's seed and i, so a receiver checks each message without keeping a
// copy. Most are small (several share a packet); one in fifty is large
// enough to be cut into several segments.
func payload(stream uint64, i int) []byte {
	r := rand.New(rand.NewPCG(stream, uint64(i)))
	size := r.IntN(120)
	if r.IntN(50) == 0 {
		size = reliable.SegmentSize + r.IntN(4*reliable.SegmentSize)
	}
	b := make([]byte, 8+size)
	binary.BigEndian.PutUint64(b, uint64(i))
	for j := 8; j < len(b); j++ {
		b[j] = byte(r.Uint32())
	}
	return b
}

// exchange sends n messages each way between a and b at once, and checks
// that each side receives the other's exactly once and in order.
func exchange(t *testing.T, a, b transport.Conn, n int) {
	t.Helper()
	ctx := t.Context()
	var wg sync.WaitGroup
	send := func(c transport.Conn, stream uint64) {
		defer wg.Done()
		for i := range n {
			if err := c.Send(ctx, payload(stream, i)); err != nil {
				t.Errorf("stream %d: send %d: %v", stream, i, err)
				return
			}
		}
	}
	recv := func(c transport.Conn, stream uint64) {
		defer wg.Done()
		for i := range n {
			got, err := c.Recv(ctx)
			if err != nil {
				t.Errorf("stream %d: recv %d: %v", stream, i, err)
				return
			}
			if want := payload(stream, i); !bytes.Equal(got, want) {
				var at int64 = -1
				if len(got) >= 8 {
					at = int64(binary.BigEndian.Uint64(got))
				}
				t.Errorf("stream %d: message %d: got %d bytes (message %d), want %d bytes", stream, i, len(got), at, len(want))
				return
			}
		}
	}
	wg.Add(4)
	go send(a, 1)
	go send(b, 2)
	go recv(b, 1)
	go recv(a, 2)
	wg.Wait()
}
