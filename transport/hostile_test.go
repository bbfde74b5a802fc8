package transport_test

import (
	"context"
	"encoding/binary"
	"flag"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

var hostile = flag.Bool("hostile", false, "measure the memory and goroutines that hostile peers hold on a server (prints figures)")

// TestHostilePeersMeasured measures what hostile peers cost a server that
// reads each conn in a goroutine of its own, as an rpc server does:
//
//   - 100 conns, each announcing a 16 MiB message and sending 4 MiB of it;
//   - 100 slowloris conns, each announcing 16 MiB, sending one byte and
//     then nothing, on a server with a 1 s read-progress timeout.
//
// It prints heap and goroutine figures rather than asserting them (they
// depend on the runtime); run it alone:
//
//	go test -run=TestHostilePeersMeasured -hostile -v ./transport/
func TestHostilePeersMeasured(t *testing.T) {
	if !*hostile {
		t.Skip("a measurement: run with -hostile")
	}
	const (
		conns     = 100
		announced = 16 << 20
		sent      = 4 << 20
	)
	t.Run("Announce16MiBSend4MiB", func(t *testing.T) {
		s := newHostileServer(t, conns*(4+sent))
		before := measure()
		for range conns {
			s.attack(t, announced, sent)
		}
		<-s.allRead
		after := measure()
		t.Logf("%d conns announcing %d MiB, sending %d MiB: heap %+.0f MiB (%.1f MiB a conn), goroutines %+d",
			conns, announced>>20, sent>>20, after.heapMiB-before.heapMiB,
			(after.heapMiB-before.heapMiB)/conns, after.goroutines-before.goroutines)
	})
	t.Run("Slowloris", func(t *testing.T) {
		const timeout = time.Second
		s := newHostileServer(t, conns*(4+1), transport.WithReadProgressTimeout(timeout))
		before := measure()
		for range conns {
			s.attack(t, announced, 1)
		}
		<-s.allRead
		start := time.Now()
		held := measure()
		t.Logf("%d slowloris conns (16 MiB announced, 1 byte sent): heap %+.1f MiB, goroutines %+d",
			conns, held.heapMiB-before.heapMiB, held.goroutines-before.goroutines)
		s.readers.Wait() // every reader has returned: its conn failed
		cut := time.Since(start)
		after := measure()
		t.Logf("all %d cut off %v after their last byte (read-progress timeout %v): heap %+.1f MiB, goroutines %+d; error: %v",
			conns, cut.Round(10*time.Millisecond), timeout, after.heapMiB-before.heapMiB,
			after.goroutines-before.goroutines, s.firstErr.Load())
	})
}

// hostileServer accepts raw TCP conns, frames them with NewConn and reads
// each in its own goroutine. allRead is closed once its conns have read
// want bytes in all.
type hostileServer struct {
	l        net.Listener
	read     atomic.Int64
	want     int64
	allRead  chan struct{}
	once     sync.Once
	accepts  sync.WaitGroup
	readers  sync.WaitGroup
	firstErr atomic.Value
}

func newHostileServer(t *testing.T, want int64, opts ...transport.Option) *hostileServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &hostileServer{l: l, want: want, allRead: make(chan struct{})}
	conns := make(map[transport.Conn]bool) // open on the server's side
	var mu sync.Mutex
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		s.accepts.Wait()
		s.readers.Wait()
	})
	s.accepts.Add(1)
	go func() { // exits when l is closed
		defer s.accepts.Done()
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			c := transport.NewConn(&countingConn{Conn: nc, s: s}, opts...)
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			s.readers.Add(1)
			go func() { // exits when c fails or is closed
				defer s.readers.Done()
				for {
					if _, err := c.Recv(context.Background()); err != nil {
						s.firstErr.CompareAndSwap(nil, err.Error())
						c.Close() // as a server does with a conn that failed
						mu.Lock()
						delete(conns, c)
						mu.Unlock()
						return
					}
				}
			}()
		}
	}()
	return s
}

// attack dials the server, announces a message of announced bytes and sends
// the first n of them. The conn stays open until the test ends.
func (s *hostileServer) attack(t *testing.T, announced, n int) {
	nc, err := net.Dial("tcp", s.l.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	frame := binary.BigEndian.AppendUint32(nil, uint32(announced))
	frame = append(frame, make([]byte, n)...)
	go nc.Write(frame) // blocks until the server has read most of it; fails at cleanup
}

type countingConn struct {
	net.Conn
	s *hostileServer
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.s.read.Add(int64(n)) >= c.s.want {
		c.s.once.Do(func() { close(c.s.allRead) })
	}
	return n, err
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
