package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/reliable"
)

// socketBuffer is the kernel buffer asked for on the reliable run's
// sockets. A reliable connection keeps a large window in flight, and the
// kernel's default (about 200 KB) would overflow and look like extra loss.
// (reliable.Listen and Dial do this themselves on a bare UDP socket; a
// wrapped one must be told.)
const socketBuffer = 4 << 20

// protocol is the reliable run's configuration: the defaults, except for
// Ethernet-sized datagrams (1400 bytes) instead of loopback's 64 KB ones,
// and the peer declared lost after -silence (3 s by default, rather than
// the protocol's 5 s: on a network bad enough for that, the demo says so
// sooner). Then a message of the default -size, 1000 bytes, travels in a
// datagram of its own, as in the UDP runs, rather than 60 of them sharing
// one big datagram that the faults would rarely hit. (Smaller messages
// still share: try -size 20.)
func protocol(cfg config) reliable.Config {
	return reliable.Config{
		PacketSize:  reliable.DefaultPacketSize,
		EpochLength: reliable.DefaultEpochLength,
		EpochLimit:  max(2, int(cfg.silence/reliable.DefaultEpochLength)),
	}
}

// reliableRun is what the reliable run reports: the stream as received,
// each end's protocol counters, and why it stopped early, if it did.
type reliableRun struct {
	result
	sender, receiver reliable.Stats
	err              error // the connection failed (the peer was declared lost): result is what arrived before
}

// progressEvery is how often a long reliable run says how far it is.
const progressEvery = 2 * time.Second

// overReliable sends the stream over a transport/reliable connection
// whose two UDP sockets both meet f: the data one way, the
// acknowledgements the other.
func overReliable(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) (reliableRun, error) {
	ack := cfg.faults
	ack.Seed++ // the receiver's socket gets a schedule of its own
	lpc, err := faultySocket(ack)
	if err != nil {
		return reliableRun{}, err
	}
	spc, err := faultySocket(cfg.faults)
	if err != nil {
		lpc.Close()
		return reliableRun{}, err
	}
	var delivered atomic.Int64
	stopProgress := showProgress(out, &delivered, cfg.n)
	defer stopProgress()
	return reliableStream(ctx, lpc, spc, cfg, tr, &delivered)
}

// reliableStream sends the stream over a transport/reliable connection
// from the socket spc to a listener on the socket lpc, and counts what is
// delivered. The receiver knows the stream has ended when Recv returns
// io.EOF: the sender's Close says so, reliably. It closes both sockets.
func reliableStream(ctx context.Context, lpc, spc net.PacketConn, cfg config, tr *demo.Tracer, delivered *atomic.Int64) (reliableRun, error) {
	l, err := reliable.ListenPacket(lpc, protocol(cfg))
	if err != nil {
		lpc.Close()
		spc.Close()
		return reliableRun{}, err
	}
	receiver := make(chan received, 1)
	go func() { receiver <- receiveReliable(ctx, l, cfg.n, tr, delivered) }() // exits at the end of the stream, or when l closes

	start, sent, err := sendReliable(ctx, spc, l.Addr(), cfg, tr)
	l.Close() // unblocks an Accept still waiting; the accepted conn stays open
	got := <-receiver
	if got.conn != nil {
		// Only now, after the sender's Close has returned: see receiveReliable.
		got.conn.Close()
	}
	name := "reliable over faults"
	if err = cmp.Or(err, got.err); err != nil {
		name = "reliable (gave up)"
	}
	res := got.tally.result(name, max(got.last.Sub(start), 0))
	return reliableRun{result: res, sender: sent, receiver: got.stats, err: err}, nil
}

// showProgress prints, every progressEvery, how many of n messages have
// been delivered, until the function it returns is called.
func showProgress(out io.Writer, delivered *atomic.Int64, n int) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() { // exits when stop closes done
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(out, "   ... %d of %d messages delivered so far (%v)\n", delivered.Load(), n, time.Since(start).Round(time.Second))
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// sendReliable dials the listener at addr from the socket pc and sends
// messages 1..n, then closes the connection, which returns once the
// receiver has acknowledged everything. It returns when it started
// sending, and its counters.
func sendReliable(ctx context.Context, pc net.PacketConn, addr net.Addr, cfg config, tr *demo.Tracer) (time.Time, reliable.Stats, error) {
	c, err := reliable.DialPacket(ctx, pc, addr, protocol(cfg)) // owns pc, even on error
	if err != nil {
		return time.Time{}, reliable.Stats{}, fmt.Errorf("dial: %w", err)
	}
	conn := tr.WrapConn("sender", c)
	start := time.Now()
	for i := 1; i <= cfg.n; i++ {
		sctx := ctx
		if tr.On() {
			sctx = trace.ContextWithLabel(ctx, fmt.Sprintf("message %d", i))
		}
		if err := conn.Send(sctx, message(i, cfg.size)); err != nil {
			conn.Close()
			return start, c.Stats(), fmt.Errorf("send %d: %w", i, err)
		}
	}
	if err := conn.Close(); err != nil {
		return start, c.Stats(), fmt.Errorf("close: %w", err)
	}
	return start, c.Stats(), nil
}

// received is what the receiving side of the reliable run got.
type received struct {
	conn  transport.Conn // the accepted conn, still open; nil if none
	tally *tally
	last  time.Time // when the last message arrived
	stats reliable.Stats
	err   error
}

// receiveReliable accepts one connection and reads it to the end.
//
// It leaves the connection open for the caller to close once the sender's
// Close has returned. Closing it at io.EOF would be too early: the sender's
// Close waits for the acknowledgement of its FIN, and if the faults drop
// that acknowledgement, the sender sends its FIN again. A receiver that
// has already forgotten the connection answers with a RESET, and the
// sender's Close reports ErrPeerReset although everything arrived: the
// "last ACK" problem that TCP's TIME-WAIT state exists for.
func receiveReliable(ctx context.Context, l *reliable.Listener, n int, tr *demo.Tracer, delivered *atomic.Int64) received {
	r := received{tally: newTally(n)}
	c, err := l.Accept(ctx)
	if err != nil {
		r.err = fmt.Errorf("accept: %w", err)
		return r
	}
	r.conn = tr.WrapConn("receiver", c)
	for {
		msg, err := r.conn.Recv(ctx)
		if errors.Is(err, io.EOF) {
			break // the sender closed: nothing more will come, and nothing is missing
		}
		if err != nil {
			r.err = fmt.Errorf("recv: %w", err)
			r.stats = c.(*reliable.Conn).Stats()
			return r
		}
		r.tally.add(msg)
		delivered.Add(1)
		r.last = time.Now()
	}
	r.stats = c.(*reliable.Conn).Stats()
	return r
}

// faultySocket opens a UDP socket on 127.0.0.1 whose sends meet f.
func faultySocket(f transport.Faults) (*transport.FaultyPacketConn, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fp, err := transport.NewFaultyPacketConn(pc, f)
	if err != nil {
		pc.Close()
		return nil, err
	}
	_ = fp.SetReadBuffer(socketBuffer) // best effort: the kernel may cap it
	_ = fp.SetWriteBuffer(socketBuffer)
	return fp, nil
}

// lostAfter is how long a connection hears nothing before it declares its
// peer lost, for config c.
func lostAfter(c reliable.Config) time.Duration { return time.Duration(c.EpochLimit) * c.EpochLength }
