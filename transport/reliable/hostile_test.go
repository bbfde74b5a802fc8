package reliable

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var hostile = flag.Bool("hostile", false, "measure the memory and sessions that hostile peers hold on a listener (prints figures)")

// TestHostilePeersMeasured measures what hostile dialers cost a listener
// whose program accepts every connection, as a server does:
//
//   - a flood of 10,000 CONNECTs, from as many addresses, never followed by
//     anything;
//   - one connection whose dialer sends a window of segments out of order
//     (its first segment never comes), each as large as a datagram allows;
//   - one connection whose dialer sends the first fragment of a message
//     announcing 16 MiB, and nothing more.
//
// The datagrams are encoded, decoded and routed as the socket's reader
// does, without the kernel, which would drop some of a flood. It prints
// figures rather than asserting them; run it alone:
//
//	go test -run=TestHostilePeersMeasured -hostile -v ./transport/reliable/
func TestHostilePeersMeasured(t *testing.T) {
	if !*hostile {
		t.Skip("a measurement: run with -hostile")
	}
	t.Run("ConnectFlood", func(t *testing.T) {
		l := hostileListener(t)
		before := measure()
		const n = 10_000
		for i := range n {
			l.connect(t, i, uint64(i+1))
			l.sync() // a server that accepts as fast as dialers come
		}
		after := measure()
		t.Logf("%d CONNECTs: %d sessions, heap %+.1f MiB, goroutines %+d",
			n, l.sessions(), after.heapMiB-before.heapMiB, after.goroutines-before.goroutines)
	})
	t.Run("FloodOfAnsweringDialers", func(t *testing.T) {
		l := hostileListener(t)
		before := measure()
		const n = 3000
		for i := range n {
			if id := l.connect(t, i, uint64(i+1)); id != 0 {
				l.send(t, i, &packet{typ: typeAck, connID: id}) // established
			}
			l.sync()
		}
		after := measure()
		t.Logf("%d dialers that answer: %d sessions, heap %+.1f MiB, goroutines %+d",
			n, l.sessions(), after.heapMiB-before.heapMiB, after.goroutines-before.goroutines)
	})
	for _, size := range []int{DefaultLoopbackPacketSize - ackBlockLen - segmentHeaderLen, SegmentSize} {
		t.Run(fmt.Sprintf("OutOfOrderWindow/%dB", size), func(t *testing.T) {
			l := hostileListener(t)
			id := l.connect(t, 0, 1)
			before := measure()
			data := make([]byte, size)
			for seq := uint32(1); seq < DefaultWindowSize; seq++ { // segment 0 never comes
				l.send(t, 0, &packet{typ: typeData, connID: id, segs: []segment{{seq: hostileISN + seq, data: data}}})
			}
			after := measure()
			t.Logf("%d out-of-order segments of %d bytes: heap %+.1f MiB", DefaultWindowSize-1, len(data), after.heapMiB-before.heapMiB)
		})
	}
	t.Run("HugeFirstFragment", func(t *testing.T) {
		l := hostileListener(t)
		id := l.connect(t, 0, 1)
		before := measure()
		left := uint32(DefaultMaxMessageSize/SegmentSize - 1)
		l.send(t, 0, &packet{typ: typeData, connID: id, segs: []segment{{seq: hostileISN, left: left, data: make([]byte, SegmentSize)}}})
		l.sync()
		after := measure()
		t.Logf("a first fragment announcing %d MiB: heap %+.1f MiB", DefaultMaxMessageSize>>20, after.heapMiB-before.heapMiB)
	})
}

const hostileISN = 5000

type hostileL struct {
	*Listener
	mu    sync.Mutex
	conns []*Conn
}

// hostileListener listens on loopback and accepts every connection,
// holding it until the test ends.
func hostileListener(t *testing.T) *hostileL {
	l, err := Listen("127.0.0.1:0", Config{Linger: -1, Seed: 1})
	require.NoError(t, err)
	h := &hostileL{Listener: l}
	done := make(chan struct{})
	go func() { // exits when l is closed
		defer close(done)
		for {
			c, err := l.Accept(context.Background())
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c.(*Conn))
			h.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, c := range h.conns {
			c.Close()
		}
	})
	return h
}

// from is the address of hostile dialer i: nobody listens there.
func from(i int) address {
	return address{ap: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(1024+i%60000))}
}

// send encodes p, decodes it and routes it as if dialer i had sent it.
func (h *hostileL) send(t *testing.T, i int, p *packet) {
	var q packet
	if err := decodePacket(appendPacket(nil, p), &q); err != nil {
		return // refused by the decoder, as the socket's reader would
	}
	h.sock.route(&q, from(i), time.Now())
}

// connect sends dialer i's CONNECT and returns the connection ID the
// listener gave it, if any.
func (h *hostileL) connect(t *testing.T, i int, nonce uint64) uint64 {
	h.send(t, i, &packet{typ: typeConnect, nonce: nonce, isn: hostileISN, packetSize: DefaultLoopbackPacketSize, window: DefaultWindowSize, maxMessage: DefaultMaxMessageSize})
	h.sock.mu.Lock()
	defer h.sock.mu.Unlock()
	if c := h.sock.peers[peerKey{from(i).String(), nonce}]; c != nil {
		for id, cc := range h.sock.conns {
			if cc == c {
				return id
			}
		}
	}
	return 0
}

// sync waits until the accept loop has taken what the backlog holds.
func (h *hostileL) sync() {
	for len(h.accepted) > 0 {
		runtime.Gosched()
	}
}

func (h *hostileL) sessions() int {
	h.sock.mu.Lock()
	defer h.sock.mu.Unlock()
	return len(h.sock.conns)
}

type figures struct {
	heapMiB    float64
	goroutines int
}

func measure() figures {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return figures{heapMiB: float64(ms.HeapInuse) / (1 << 20), goroutines: runtime.NumGoroutine()}
}
