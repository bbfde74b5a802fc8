package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
)

// MaxDatagramSize is the largest payload one UDP datagram carries over IPv4:
// 65,535 bytes less the 8-byte UDP and 20-byte IP headers.
const MaxDatagramSize = 65507

// Endpoint sends and receives datagrams: UDP, as it is. Each datagram
// arrives whole or not at all, but UDP promises nothing more: a datagram may
// be lost, duplicated, delayed, or overtaken by a later one, and nothing
// tells the sender. (Corruption is caught by the UDP checksum, which is weak;
// truncation cannot happen below MaxDatagramSize.) Package
// transport/reliable builds ordered, exactly-once delivery on top.
//
// An Endpoint is safe for concurrent use; concurrent RecvFrom calls are
// serialized.
type Endpoint struct {
	pc net.PacketConn

	rlock     chan struct{} // held by the RecvFrom in progress
	buf       []byte        // guarded by rlock
	closing   chan struct{}
	closeOnce sync.Once
}

// ListenUDP opens a UDP socket on addr ("127.0.0.1:0" picks a free port;
// LocalAddr tells which).
func ListenUDP(addr string) (*Endpoint, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen udp %s: %w", addr, err)
	}
	return NewEndpoint(pc), nil
}

// NewEndpoint returns an Endpoint over any packet socket: a UDP socket, or
// one wrapped by NewFaultyPacketConn. The Endpoint owns pc and closes it on
// Close.
func NewEndpoint(pc net.PacketConn) *Endpoint {
	return &Endpoint{
		pc:      pc,
		rlock:   make(chan struct{}, 1),
		closing: make(chan struct{}),
	}
}

// SendTo sends msg as one datagram to addr. It returns once the datagram is
// handed to the operating system (a send on a UDP socket does not wait for
// the network), or ctx.Err() if ctx has ended. A nil error does not mean
// the datagram will arrive. Messages over MaxDatagramSize are refused with
// an error matching ErrMessageTooLarge.
func (e *Endpoint) SendTo(ctx context.Context, msg []byte, addr net.Addr) error {
	if len(msg) > MaxDatagramSize {
		return fmt.Errorf("%w: %d bytes, a datagram holds %d", ErrMessageTooLarge, len(msg), MaxDatagramSize)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := e.pc.WriteTo(msg, addr); err != nil {
		if isClosed(e.closing) || errors.Is(err, net.ErrClosed) {
			return ErrClosed
		}
		return fmt.Errorf("transport: send to %s: %w", addr, err)
	}
	return nil
}

// RecvFrom blocks until a datagram arrives and returns it with its sender's
// address, or returns ctx.Err() when ctx ends, or ErrClosed after Close.
// The returned slice belongs to the caller.
func (e *Endpoint) RecvFrom(ctx context.Context) ([]byte, net.Addr, error) {
	select {
	case e.rlock <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-e.closing:
		return nil, nil, ErrClosed
	}
	defer func() { <-e.rlock }()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if e.buf == nil {
		e.buf = make([]byte, MaxDatagramSize+1)
	}
	undo := interruptOn(ctx, e.pc.SetReadDeadline)
	n, addr, err := e.pc.ReadFrom(e.buf)
	undo()
	if err != nil {
		switch {
		case isClosed(e.closing) || errors.Is(err, net.ErrClosed):
			return nil, nil, ErrClosed
		case os.IsTimeout(err) && ctx.Err() != nil:
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("transport: recv: %w", err)
	}
	return append([]byte(nil), e.buf[:n]...), addr, nil
}

// LocalAddr returns the address the endpoint receives on.
func (e *Endpoint) LocalAddr() net.Addr { return e.pc.LocalAddr() }

// Close closes the socket and unblocks RecvFrom. It is idempotent.
func (e *Endpoint) Close() error {
	var err error
	e.closeOnce.Do(func() {
		close(e.closing)
		err = e.pc.Close()
	})
	return err
}
