package kcp_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/xtaci/kcp-go/v5"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/reliable"
)

func TestMain(m *testing.M) {
	// kcp-go starts package-level goroutines once and never stops them
	// (its timer scheduler and its post-processing workers): not leaks of
	// a session.
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/xtaci/kcp-go/v5.(*TimedSched).run"),
		goleak.IgnoreAnyFunction("github.com/xtaci/kcp-go/v5.postProcessWorker"))
}

// BenchmarkStream streams messages one way over loopback UDP, through
// transport/reliable and through kcp-go in fast mode, in the same run, at
// 0% and 5% loss each way (the same transport.FaultyPacketConn and seeds
// for both):
//
//   - Reliable: reliable.Config{} (congestion control on, datagrams up to
//     64 KB, as loopback allows).
//   - Reliable/packet=1400: datagrams of KCP's size.
//   - Reliable/fixedWindow: congestion control off, as in KCP's fast mode.
//   - KCPFast: kcp-go v5 with no FEC and no encryption, fast mode
//     (SetNoDelay(1, 10, 2, 1): no delayed ACK, a 10 ms clock, resend after
//     2 duplicate ACKs, no congestion window), windows of 1024 segments,
//     MTU 1400, stream mode, messages framed by transport.NewConn (4-byte
//     length prefix), so both sides offer the same message Conn.
//
// MB/s is message bytes per second; retx/op is segments sent again per
// message (reliable.Stats.Retransmissions, kcp.DefaultSnmp.RetransSegs).
// Run it with
//
//	cd bench/kcp && go test -run='^$' -bench=. -benchmem -benchtime=2s
func BenchmarkStream(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		name := fmt.Sprintf("%dKiB", size>>10)
		for _, loss := range []float64{0, 0.05} {
			faults := transport.Faults{Drop: loss, Seed: 1}
			prefix := fmt.Sprintf("loss=%g%%/%s/", loss*100, name)
			b.Run(prefix+"Reliable", func(b *testing.B) {
				benchStream(b, reliablePair(b, reliable.Config{}, faults), size)
			})
			b.Run(prefix+"Reliable/packet=1400", func(b *testing.B) {
				benchStream(b, reliablePair(b, reliable.Config{PacketSize: 1400}, faults), size)
			})
			b.Run(prefix+"Reliable/fixedWindow", func(b *testing.B) {
				benchStream(b, reliablePair(b, reliable.Config{FixedWindow: true}, faults), size)
			})
			b.Run(prefix+"KCPFast", func(b *testing.B) {
				benchStream(b, kcpPair(b, faults), size)
			})
		}
	}
}

func benchStream(b *testing.B, pair [2]transport.Conn, size int) {
	a, r := pair[0], pair[1]
	ctx := context.Background()
	msg := make([]byte, size)
	retx := retransmissions(a)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	done := make(chan error, 1)
	go func() {
		var buf []byte
		for range b.N {
			var err error
			if buf, err = transport.RecvInto(ctx, r, buf); err != nil {
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
	b.ReportMetric(float64(retransmissions(a)-retx)/float64(b.N), "retx/op")
}

// retransmissions is how many segments have been sent again: by a's
// connection if it is a reliable.Conn, else by every KCP session so far.
func retransmissions(a transport.Conn) uint64 {
	if c, ok := a.(*reliable.Conn); ok {
		return uint64(c.Stats().Retransmissions)
	}
	return kcp.DefaultSnmp.Copy().RetransSegs
}

// udp returns a loopback UDP socket with 4 MiB kernel buffers each way
// (what transport/reliable asks for itself), behind the faults if any.
func udp(b *testing.B, faults transport.Faults, salt int64) net.PacketConn {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	uc := pc.(*net.UDPConn)
	_ = uc.SetReadBuffer(4 << 20)
	_ = uc.SetWriteBuffer(4 << 20)
	if faults.IsZero() {
		return pc
	}
	faults.Seed += salt
	fp, err := transport.NewFaultyPacketConn(pc, faults)
	if err != nil {
		b.Fatal(err)
	}
	return fp
}

func reliablePair(b *testing.B, cfg reliable.Config, faults transport.Faults) [2]transport.Conn {
	ctx := context.Background()
	l, err := reliable.ListenPacket(udp(b, faults, 1), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan transport.Conn, 1)
	go func() {
		c, _ := l.Accept(ctx)
		accepted <- c
	}()
	a, err := reliable.DialPacket(ctx, udp(b, faults, 2), l.Addr(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := <-accepted
	if r == nil {
		b.Fatal("accept failed")
	}
	b.Cleanup(func() { a.Close(); r.Close() })
	return [2]transport.Conn{a, r}
}

func kcpPair(b *testing.B, faults transport.Faults) [2]transport.Conn {
	serverPC, clientPC := udp(b, faults, 1), udp(b, faults, 2)
	l, err := kcp.ServeConn(nil, 0, 0, serverPC)
	if err != nil {
		b.Fatal(err)
	}
	client, err := kcp.NewConn2(serverPC.LocalAddr(), nil, 0, 0, clientPC)
	if err != nil {
		b.Fatal(err)
	}
	fast(client)
	// KCP has no handshake: the listener sees the session when its first
	// segment arrives, so write the first message before accepting.
	a := transport.NewConn(client)
	if err := a.Send(context.Background(), []byte("hello")); err != nil {
		b.Fatal(err)
	}
	server, err := l.AcceptKCP()
	if err != nil {
		b.Fatal(err)
	}
	fast(server)
	r := transport.NewConn(server)
	if _, err := r.Recv(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		a.Close()
		r.Close()
		l.Close()
		serverPC.Close()
		clientPC.Close()
	})
	return [2]transport.Conn{a, r}
}

// fast puts a KCP session in fast mode, the settings kcp-go's README and
// kcptun's "fast3" give for throughput and latency.
func fast(s *kcp.UDPSession) {
	s.SetNoDelay(1, 10, 2, 1)
	s.SetWindowSize(1024, 1024)
	s.SetMtu(1400)
	s.SetStreamMode(true)
	s.SetWriteDelay(false)
}
