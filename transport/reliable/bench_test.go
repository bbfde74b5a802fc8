package reliable_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/reliable"
)

// BenchmarkThroughput streams messages one way over loopback, through this
// package at 0% and 5% loss (each way) and through framed TCP
// (transport.DialTCP), in the same run:
//
//	go test -run='^$' -bench=Throughput -benchmem -benchtime=2s ./transport/reliable/
//
// MB/s is message bytes per second. "packet=1400" uses Ethernet-sized
// datagrams instead of the large ones loopback allows by default;
// "fixedWindow" turns congestion control off (Config.FixedWindow). Extra
// columns, per message: pkts (datagrams the sender sent), acks (datagrams
// the receiver sent back), retx (segments sent again), fast (segments found
// lost by a later one's acknowledgement), rto (retransmission timeouts),
// spurious (timeouts whose flight was arriving, only late: see
// Stats.SpuriousTimeouts) and tlp (tail loss probes).
func BenchmarkThroughput(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		name := fmt.Sprintf("%dKiB", size>>10)
		b.Run("TCP/"+name, func(b *testing.B) { benchStream(b, tcpPair(b), size) })
		for _, loss := range []float64{0, 0.05} {
			faults := transport.Faults{Drop: loss, Seed: 1}
			b.Run(fmt.Sprintf("Reliable/loss=%g%%/%s", loss*100, name), func(b *testing.B) {
				benchStream(b, reliablePair(b, reliable.Config{}, faults), size)
			})
			b.Run(fmt.Sprintf("Reliable/loss=%g%%/packet=1400/%s", loss*100, name), func(b *testing.B) {
				benchStream(b, reliablePair(b, reliable.Config{PacketSize: 1400}, faults), size)
			})
			b.Run(fmt.Sprintf("Reliable/loss=%g%%/fixedWindow/%s", loss*100, name), func(b *testing.B) {
				benchStream(b, reliablePair(b, reliable.Config{FixedWindow: true}, faults), size)
			})
		}
	}
}

func benchStream(b *testing.B, pair [2]transport.Conn, size int) {
	a, r := pair[0], pair[1]
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
	for range b.N {
		if err := a.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if c, ok := a.(*reliable.Conn); ok {
		st := c.Stats()
		b.ReportMetric(float64(st.Retransmissions)/float64(b.N), "retx/op")
		b.ReportMetric(float64(st.Timeouts)/float64(b.N), "rto/op")
		b.ReportMetric(float64(st.SpuriousTimeouts)/float64(b.N), "spurious/op")
		b.ReportMetric(float64(st.TailProbes)/float64(b.N), "tlp/op")
		b.ReportMetric(float64(st.FastRetransmits)/float64(b.N), "fast/op")
		b.ReportMetric(float64(st.PacketsSent)/float64(b.N), "pkts/op")
		if r, ok := pair[1].(*reliable.Conn); ok {
			b.ReportMetric(float64(r.Stats().PacketsSent)/float64(b.N), "acks/op")
		}
	}
}

func tcpPair(b testing.TB) [2]transport.Conn {
	ctx := context.Background()
	l, err := transport.ListenTCP("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan transport.Conn, 1)
	go func() {
		c, _ := l.Accept(ctx)
		accepted <- c
	}()
	a, err := transport.DialTCP(ctx, l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	r := <-accepted
	b.Cleanup(func() { a.Close(); r.Close() })
	return [2]transport.Conn{a, r}
}

func reliablePair(b testing.TB, cfg reliable.Config, faults transport.Faults) [2]transport.Conn {
	ctx := context.Background()
	l, err := reliable.ListenPacket(faultyUDP(b, faults, 1), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan transport.Conn, 1)
	go func() {
		c, _ := l.Accept(ctx)
		accepted <- c
	}()
	a, err := reliable.DialPacket(ctx, faultyUDP(b, faults, 2), l.Addr(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := <-accepted
	b.Cleanup(func() { a.Close(); r.Close() })
	return [2]transport.Conn{a, r}
}
