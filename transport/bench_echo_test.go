package transport_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/distsys-kit/distsys/transport"
)

// BenchmarkTCPEcho measures round trips of 64-byte messages, the pattern of
// RPC: each caller sends a request and waits for its echo before sending
// the next, so latency counts, not only batching. 1 or 64 callers share one
// connection; a dispatcher hands each echo to its caller by the first byte.
//
//	go test -run='^$' -bench=TCPEcho -benchmem ./transport/
//
// msgs/write is how many requests the client's system calls carry.
//
// framed: transport.NewConn on both ends (RecvInto, no allocation).
// raw:    the hand-written loop on the same sockets: callers write their
//
//	frame straight to the socket under a mutex (one write each), the
//	echo server reads through a bufio.Reader and flushes its
//	bufio.Writer when no more requests are buffered.
func BenchmarkTCPEcho(b *testing.B) {
	for _, callers := range []int{1, 64} {
		name := "/" + strconv.Itoa(callers) + "callers"
		b.Run("framed"+name, func(b *testing.B) { benchEcho(b, callers, framedEcho) })
		b.Run("raw"+name, func(b *testing.B) { benchEcho(b, callers, rawEcho) })
	}
}

// An echoPair is the client side of an echo benchmark: send writes one
// request, recv reads one reply into buf, and stop ends the server.
type echoPair struct {
	send func(msg []byte) error
	recv func(buf []byte) ([]byte, error)
	stop func()
}

func framedEcho(b *testing.B, x, y net.Conn) echoPair {
	ctx := context.Background()
	client, server := transport.NewConn(x), transport.NewConn(y)
	done := make(chan struct{})
	go func() { // exits when the conns close
		defer close(done)
		var buf []byte
		for {
			msg, err := transport.RecvInto(ctx, server, buf)
			if err != nil {
				return
			}
			if server.Send(ctx, msg) != nil {
				return
			}
			buf = msg
		}
	}()
	return echoPair{
		send: func(msg []byte) error { return client.Send(ctx, msg) },
		recv: func(buf []byte) ([]byte, error) { return transport.RecvInto(ctx, client, buf) },
		stop: func() { client.Close(); server.Close(); <-done },
	}
}

func rawEcho(b *testing.B, x, y net.Conn) echoPair {
	done := make(chan struct{})
	go func() { // exits when the conns close
		defer close(done)
		br, bw := bufio.NewReader(y), bufio.NewWriter(y)
		var hdr [4]byte
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return
			}
			n := binary.BigEndian.Uint32(hdr[:])
			if _, err := io.ReadFull(br, buf[:n]); err != nil {
				return
			}
			bw.Write(hdr[:])
			bw.Write(buf[:n])
			if br.Buffered() == 0 && bw.Flush() != nil {
				return
			}
		}
	}()
	var mu sync.Mutex
	br := bufio.NewReader(x)
	return echoPair{
		send: func(msg []byte) error {
			frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(msg)), uint32(len(msg)))
			frame = append(frame, msg...)
			mu.Lock()
			defer mu.Unlock()
			_, err := x.Write(frame)
			return err
		},
		recv: func(buf []byte) ([]byte, error) {
			var hdr [4]byte
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return nil, err
			}
			buf = buf[:binary.BigEndian.Uint32(hdr[:])]
			_, err := io.ReadFull(br, buf)
			return buf, err
		},
		stop: func() { x.Close(); y.Close(); <-done },
	}
}

func benchEcho(b *testing.B, callers int, open func(*testing.B, net.Conn, net.Conn) echoPair) {
	x, y := tcpPair(b)
	cx := &syscallCounter{Conn: x}
	p := open(b, cx, y)
	replies := make([]chan struct{}, callers)
	for i := range replies {
		replies[i] = make(chan struct{}, 1)
	}
	dispatched := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	go func() { // exits after b.N replies, or on an error
		buf := make([]byte, 64)
		for range b.N {
			msg, err := p.recv(buf)
			if err != nil {
				dispatched <- err
				return
			}
			replies[msg[0]] <- struct{}{}
		}
		dispatched <- nil
	}()
	var wg sync.WaitGroup
	for c := range callers {
		n := b.N / callers
		if c < b.N%callers {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := make([]byte, 64)
			msg[0] = byte(c)
			for range n {
				if err := p.send(msg); err != nil {
					b.Error(err)
					return
				}
				<-replies[c]
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		p.stop() // the dispatcher waits for replies that will not come
		<-dispatched
		return
	}
	err := <-dispatched
	b.StopTimer()
	p.stop()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/float64(cx.writes.Load()), "msgs/write")
}
