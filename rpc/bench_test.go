package rpc_test

import (
	"context"
	"net"
	netrpc "net/rpc"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// The benchmarks put this package beside net/rpc, in the same run, over TCP
// loopback:
//
//	go test -run='^$' -bench=. -benchmem -benchtime=2s ./rpc/
//
// For each of a small call (two ints in, one out) and a 4 KiB echo, and for
// each package: "seq" makes calls one after another from one goroutine;
// "64callers" makes them from 64 goroutines sharing one client. Besides
// ns/op (per call) and allocs/op, each reports calls/s and the p50 and p99
// latency of a call, in microseconds.

// Bench is the benchmark service, the same for both packages.
type Bench struct{}

// BenchArgs is a small argument.
type BenchArgs struct{ A, B int }

// BenchReply is a small reply.
type BenchReply struct{ C int }

// Blob carries the echoed bytes.
type Blob struct{ Data []byte }

// Add adds.
func (Bench) Add(args *BenchArgs, reply *BenchReply) error {
	reply.C = args.A + args.B
	return nil
}

// Echo echoes.
func (Bench) Echo(args *Blob, reply *Blob) error {
	reply.Data = args.Data
	return nil
}

// caller makes one call; the benchmark loops over it.
type caller func(args, reply any, method string) error

func BenchmarkRPC(b *testing.B) {
	payloads := []struct {
		name   string
		method string
		args   func() any
		reply  func() any
	}{
		{"small", "Bench.Add", func() any { return &BenchArgs{A: 1, B: 2} }, func() any { return new(BenchReply) }},
		{"4KiB", "Bench.Echo", func() any { return &Blob{Data: make([]byte, 4096)} }, func() any { return new(Blob) }},
	}
	impls := []struct {
		name  string
		setup func(testing.TB) caller
	}{
		{"distsys", setupDistsys},
		{"netrpc", setupNetRPC},
	}
	for _, p := range payloads {
		for _, im := range impls {
			b.Run(p.name+"/"+im.name+"/seq", func(b *testing.B) {
				call := im.setup(b)
				args, reply := p.args(), p.reply()
				runSeq(b, func() error { return call(args, reply, p.method) })
			})
			b.Run(p.name+"/"+im.name+"/64callers", func(b *testing.B) {
				call := im.setup(b)
				runParallel(b, 64, func() func() error {
					args, reply := p.args(), p.reply()
					return func() error { return call(args, reply, p.method) }
				})
			})
		}
	}
}

func setupDistsys(tb testing.TB) caller {
	l, err := transport.ListenTCP("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := rpc.NewServer()
	if err := srv.Register(Bench{}); err != nil {
		tb.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(l) }()
	c, err := rpc.Dial(context.Background(), l.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c.Close()
		srv.Close()
		<-served
	})
	ctx := context.Background()
	return func(args, reply any, method string) error { return c.Call(ctx, method, args, reply) }
}

func setupNetRPC(tb testing.TB) caller {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := netrpc.NewServer()
	if err := srv.Register(Bench{}); err != nil {
		tb.Fatal(err)
	}
	conns := make(chan net.Conn, 1)
	go func() {
		nc, err := l.Accept()
		if err != nil {
			close(conns)
			return
		}
		conns <- nc
		srv.ServeConn(nc)
	}()
	c, err := netrpc.Dial("tcp", l.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c.Close()
		l.Close()
		if nc, ok := <-conns; ok {
			nc.Close()
		}
	})
	return func(args, reply any, method string) error { return c.Call(method, args, reply) }
}

func runSeq(b *testing.B, call func() error) {
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		t0 := time.Now()
		if err := call(); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	report(b, lat, time.Since(start))
}

func runParallel(b *testing.B, callers int, newCall func() func() error) {
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	calls := make([]func() error, callers)
	for i := range calls {
		calls[i] = newCall()
	}
	var who atomic.Int64
	b.SetParallelism((callers + 1) / 2) // GOMAXPROCS is 2 on the reference machine
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		call := calls[int(who.Add(1)-1)%callers]
		for pb.Next() {
			t0 := time.Now()
			if err := call(); err != nil {
				b.Error(err)
				return
			}
			lat[next.Add(1)-1] = time.Since(t0)
		}
	})
	report(b, lat[:next.Load()], time.Since(start))
}

func report(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}
