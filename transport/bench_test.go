package transport_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/distsys-kit/distsys/transport"
)

// The benchmarks put framed message conns beside the raw TCP baselines they
// are built on, in the same run:
//
//   - framed: transport.NewConn over TCP, one receiver calling Recv (memory
//     of its own for each message: small ones are cut from shared slabs,
//     larger ones allocated), 1 or 64 senders.
//   - framedRecvInto: the same, the receiver reusing one buffer
//     (transport.RecvInto): no allocation per message.
//   - rawBatched: one goroutine writing length-prefixed frames through a
//     bufio.Writer and one parsing them through a bufio.Reader: the best a
//     hand-written framing loop does.
//   - raw: a net.Conn writing 4 KiB chunks, one write each, read in large
//     reads: the plain byte stream, with no framing at all.
//
// The framed benchmarks also report how many messages a write and a read
// system call carried (msgs/write, msgs/read). Run them with
//
//	go test -run='^$' -bench=TCP -benchmem ./transport/
func BenchmarkTCP(b *testing.B) {
	for _, size := range []int{64, 4096} {
		name := sizeName(size)
		b.Run("framed/"+name+"/1sender", func(b *testing.B) { benchFramed(b, size, 1, false) })
		b.Run("framed/"+name+"/64senders", func(b *testing.B) { benchFramed(b, size, 64, false) })
		b.Run("framedRecvInto/"+name+"/1sender", func(b *testing.B) { benchFramed(b, size, 1, true) })
		b.Run("framedRecvInto/"+name+"/64senders", func(b *testing.B) { benchFramed(b, size, 64, true) })
		b.Run("rawBatched/"+name, func(b *testing.B) { benchRawBatched(b, size) })
	}
	b.Run("raw/4KiB", benchRaw)
}

func sizeName(n int) string {
	if n >= 1024 {
		return strconv.Itoa(n/1024) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

func tcpPair(b *testing.B) (client, server net.Conn) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		b.Fatal("accept failed")
	}
	return client, server
}

func benchFramed(b *testing.B, size, senders int, into bool) {
	x, y := tcpPair(b)
	cx, cy := &syscallCounter{Conn: x}, &syscallCounter{Conn: y}
	a, r := transport.NewConn(cx), transport.NewConn(cy)
	defer a.Close()
	defer r.Close()
	ctx := context.Background()
	msg := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()

	done := make(chan error, 1)
	go func() {
		var buf []byte
		for range b.N {
			var err error
			if into {
				buf, err = transport.RecvInto(ctx, r, buf)
			} else {
				_, err = r.Recv(ctx)
			}
			if err != nil {
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
	b.ReportMetric(float64(b.N)/float64(cx.writes.Load()), "msgs/write")
	b.ReportMetric(float64(b.N)/float64(cy.reads.Load()), "msgs/read")
}

// syscallCounter counts the writes and reads of the conn it wraps: how many
// messages a system call carries.
type syscallCounter struct {
	net.Conn
	writes, reads atomic.Int64
}

func (c *syscallCounter) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func (c *syscallCounter) Read(p []byte) (int, error) {
	c.reads.Add(1)
	return c.Conn.Read(p)
}

func benchRawBatched(b *testing.B, size int) {
	x, y := tcpPair(b)
	defer x.Close()
	defer y.Close()
	msg := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()

	done := make(chan error, 1)
	go func() {
		br := bufio.NewReaderSize(y, 64<<10)
		var hdr [4]byte
		buf := make([]byte, size)
		for range b.N {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				done <- err
				return
			}
			if _, err := io.ReadFull(br, buf[:binary.BigEndian.Uint32(hdr[:])]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	bw := bufio.NewWriterSize(x, 64<<10)
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(size))
	for range b.N {
		bw.Write(hdr[:])
		bw.Write(msg)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

func benchRaw(b *testing.B) {
	const size = 4096
	x, y := tcpPair(b)
	defer x.Close()
	defer y.Close()
	msg := make([]byte, size)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()

	done := make(chan error, 1)
	go func() {
		// Read the stream in large reads, as a receiver that knows
		// nothing of messages would.
		buf := make([]byte, 64<<10)
		for left := b.N * size; left > 0; {
			n, err := y.Read(buf[:min(len(buf), left)])
			if err != nil {
				done <- err
				return
			}
			left -= n
		}
		done <- nil
	}()
	for range b.N {
		if _, err := x.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
