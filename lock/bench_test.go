package lock_test

import (
	"context"
	"net"
	netrpc "net/rpc"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// Benchmarks over TCP loopback, with the server's state on disk as in
// production (the token high-water mark is saved, with fsync, every
// DefaultTokenBlock grants).

// tcpServer starts a lock server on 127.0.0.1 and returns its address.
func tcpServer(b *testing.B) string {
	b.Helper()
	srv, err := lock.NewServer(lock.Config{Dir: b.TempDir()})
	require.NoError(b, err)
	l, err := transport.ListenTCP("127.0.0.1:0")
	require.NoError(b, err)
	done := make(chan struct{})
	go func() { // exits when srv is closed
		defer close(done)
		_ = srv.Serve(l)
	}()
	b.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return l.Addr().String()
}

func tcpClient(b *testing.B, addr string) *lock.Client {
	b.Helper()
	rc, err := rpc.Dial(context.Background(), addr)
	require.NoError(b, err)
	c := lock.NewClient(rc)
	b.Cleanup(func() {
		_ = c.Close()
		_ = rc.Close()
	})
	return c
}

// BenchmarkUncontended measures Lock+Unlock of a free lock by one client:
// two round trips.
func BenchmarkUncontended(b *testing.B) {
	ctx := context.Background()
	m := tcpClient(b, tcpServer(b)).Mutex("x")
	start := time.Now()
	for b.Loop() {
		if _, err := m.Lock(ctx); err != nil {
			b.Fatal(err)
		}
		if err := m.Unlock(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "locks/s")
}

// BenchmarkContended8 measures 8 clients taking turns on one lock, each
// holding it for no time at all: acquisitions per second, and how long each
// Lock waited (p50, p99, max). FIFO order keeps the maximum close to the
// median: each waiter waits for the 7 others once. (The maximum also
// measures how long a client went unscheduled: with dozens of goroutines on
// 2 cores, Go's 10 ms time slice shows.) min/max-share compares the
// acquisitions of the luckiest and unluckiest client: 1 is perfectly fair.
func BenchmarkContended8(b *testing.B) {
	const clients = 8
	ctx := context.Background()
	addr := tcpServer(b)
	mutexes := make([]*lock.Mutex, clients)
	for i := range mutexes {
		mutexes[i] = tcpClient(b, addr).Mutex("x")
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	waits := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i, m := range mutexes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				t0 := time.Now()
				if _, err := m.Lock(ctx); err != nil {
					b.Error(err)
					return
				}
				waits[i] = append(waits[i], time.Since(t0))
				if err := m.Unlock(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	counts := make([]int, clients)
	for i, w := range waits {
		counts[i] = len(w)
	}
	all := slices.Concat(waits...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "locks/s")
	b.ReportMetric(pct(0.5), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(pct(1), "max-µs")
	b.ReportMetric(float64(slices.Min(counts))/float64(max(1, slices.Max(counts))), "min/max-share")
}

// BenchmarkBaselineNetRPC is the standard library's floor: one net/rpc
// call to a method that does nothing, over TCP loopback. Lock+Unlock costs
// two round trips.
func BenchmarkBaselineNetRPC(b *testing.B) {
	srv := netrpc.NewServer()
	require.NoError(b, srv.Register(new(Nop)))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	done := make(chan struct{})
	go func() { // exits when l is closed
		defer close(done)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go srv.ServeConn(conn) // exits when the client hangs up
		}
	}()
	c, err := netrpc.Dial("tcp", l.Addr().String())
	require.NoError(b, err)
	defer func() {
		_ = c.Close()
		_ = l.Close()
		<-done
	}()
	for b.Loop() {
		if err := c.Call("Nop.Do", 1, new(int)); err != nil {
			b.Fatal(err)
		}
	}
}

// Nop is a net/rpc service that does nothing.
type Nop struct{}

// Do does nothing.
func (Nop) Do(_ int, reply *int) error { return nil }
