package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// settle is how long a UDP receiver waits, after the sender has finished
// and nothing more arrives, before it decides the stream is over. UDP has
// no "end of stream": a last message saying "that's all" could be lost
// like any other, so silence is the only sign. The faults' delays are
// added to it, so that held-back datagrams still count.
const settle = 100 * time.Millisecond

// quietPeriod is how long the receiver waits for stragglers under f.
func quietPeriod(f transport.Faults) time.Duration {
	hold := f.ReorderDelay
	if hold == 0 && f.Reorder > 0 {
		hold = transport.DefaultReorderDelay
	}
	return settle + f.Delay + f.Jitter + hold
}

// pause is how long the UDP sender rests after each burst of cfg.burst
// datagrams, so that the receiver can empty its kernel buffer.
const pause = time.Millisecond

// rawUDP sends the stream from one plain UDP socket to another.
func rawUDP(ctx context.Context, cfg config) (result, error) {
	send, err := transport.ListenUDP("127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	defer send.Close()
	recv, err := transport.ListenUDP("127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	defer recv.Close()
	t, elapsed, err := streamOverUDP(ctx, send, recv, cfg, settle)
	return t.result("raw UDP", elapsed), err
}

// faultyUDP sends the stream from a UDP socket wrapped in
// transport.NewFaultyPacketConn, so that what it sends meets f, and says
// what the faults did.
func faultyUDP(ctx context.Context, cfg config) (result, transport.FaultStats, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return result{}, transport.FaultStats{}, err
	}
	fp, err := transport.NewFaultyPacketConn(pc, cfg.faults)
	if err != nil {
		pc.Close()
		return result{}, transport.FaultStats{}, err
	}
	send := transport.NewEndpoint(fp) // owns fp, which owns pc
	defer send.Close()
	recv, err := transport.ListenUDP("127.0.0.1:0")
	if err != nil {
		return result{}, transport.FaultStats{}, err
	}
	defer recv.Close()
	t, elapsed, err := streamOverUDP(ctx, send, recv, cfg, quietPeriod(cfg.faults))
	return t.result("UDP with faults", elapsed), fp.Stats(), err
}

// streamOverUDP sends messages 1..cfg.n, in bursts of cfg.burst, from
// send to recv, and returns what recv received and how long it took from
// the first send to the last arrival.
func streamOverUDP(ctx context.Context, send, recv *transport.Endpoint, cfg config, quiet time.Duration) (*tally, time.Duration, error) {
	t := newTally(cfg.n)

	// sending ends when the sender has sent its last message.
	sending, doneSending := context.WithCancel(ctx)
	defer doneSending()
	sent := make(chan error, 1)
	start := time.Now()
	go func() { // exits after the last send, or when ctx ends
		defer doneSending()
		sent <- sendAll(ctx, send, recv.LocalAddr(), cfg)
	}()
	last, rerr := receive(ctx, sending, recv, t, quiet)
	serr := <-sent
	if rerr != nil {
		return t, 0, rerr
	}
	if serr != nil {
		return t, 0, serr
	}
	return t, max(last.Sub(start), 0), nil
}

// sendAll sends messages 1..cfg.n to addr, resting a moment after each
// burst: UDP has no flow control, so a sender that never rests fills the
// receiver's kernel buffer faster than the receiver empties it.
func sendAll(ctx context.Context, send *transport.Endpoint, addr net.Addr, cfg config) error {
	for i := 1; i <= cfg.n; i++ {
		if err := send.SendTo(ctx, message(i, cfg.size), addr); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
		if cfg.burst > 0 && i%cfg.burst == 0 {
			if err := rest(ctx, pause); err != nil {
				return err
			}
		}
	}
	return nil
}

// rest waits for d, or until ctx ends.
func rest(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// receive reads datagrams into t until the sender has finished (sending
// ends) and then nothing has arrived for quiet. It returns when the last
// datagram arrived. The waits are deadlines on ctx, so the receiver never
// hangs on a datagram that will not come.
func receive(ctx, sending context.Context, ep *transport.Endpoint, t *tally, quiet time.Duration) (time.Time, error) {
	var last time.Time
	for { // while the sender sends
		msg, _, err := ep.RecvFrom(sending)
		if err != nil {
			if ctx.Err() == nil && sending.Err() != nil {
				break // the sender is done; a cancelled RecvFrom loses nothing
			}
			return last, err
		}
		t.add(msg)
		last = time.Now()
	}
	for { // after it: until nothing has come for quiet
		wait, cancel := context.WithTimeout(ctx, quiet)
		msg, _, err := ep.RecvFrom(wait)
		cancel()
		switch {
		case err == nil:
			t.add(msg)
			last = time.Now()
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			return last, nil
		default:
			return last, err
		}
	}
}
