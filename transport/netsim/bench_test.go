package netsim_test

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// The benchmarks put a fault-free netsim link beside transport.NewConn over
// net.Pipe, the in-memory stream baseline, in the same run:
//
//	go test -run='^$' -bench=. -benchmem ./transport/netsim/
//
// netsim/...:         a conn on a perfect link, messages delivered inline.
// netsim-delayed/...: a link with a 1µs delay, so every message goes
//
//	through the delivery goroutine's heap and timer.
//
// pipe/...:           transport.NewConn(net.Pipe()), framed messages over
//
//	a synchronous in-memory stream.
func BenchmarkMessages(b *testing.B) {
	for _, size := range []int{64, 4096} {
		name := strconv.Itoa(size) + "B"
		for _, senders := range []int{1, 8} {
			suffix := "/" + name + "/" + strconv.Itoa(senders) + "senders"
			b.Run("netsim"+suffix, func(b *testing.B) { benchConn(b, netsimPair(b, 0), size, senders) })
			b.Run("netsim-delayed"+suffix, func(b *testing.B) { benchConn(b, netsimPair(b, time.Microsecond), size, senders) })
			b.Run("pipe"+suffix, func(b *testing.B) { benchConn(b, pipePair(b), size, senders) })
		}
	}
}

func netsimPair(b *testing.B, delay time.Duration) func() (transport.Conn, transport.Conn) {
	return func() (transport.Conn, transport.Conn) {
		n := netsim.NewNetwork(1)
		b.Cleanup(func() { n.Close() })
		if err := n.SetDefaultFaults(transport.Faults{Delay: delay}); err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		l, err := n.Listen("b")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		x, err := n.Dial(ctx, "a", "b")
		if err != nil {
			b.Fatal(err)
		}
		y, err := l.Accept(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return x, y
	}
}

func pipePair(b *testing.B) func() (transport.Conn, transport.Conn) {
	return func() (transport.Conn, transport.Conn) {
		x, y := net.Pipe()
		return transport.NewConn(x), transport.NewConn(y)
	}
}

func benchConn(b *testing.B, pair func() (transport.Conn, transport.Conn), size, senders int) {
	a, r := pair()
	defer a.Close()
	defer r.Close()
	ctx := context.Background()
	msg := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()

	done := make(chan error, 1)
	go func() {
		for range b.N {
			if _, err := r.Recv(ctx); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var wg sync.WaitGroup
	for s := range senders {
		n := b.N / senders
		if s < b.N%senders {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if err := a.Send(ctx, msg); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
