package transport_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// BenchmarkTCPRatio puts a framed conn beside rawBatched (see
// BenchmarkTCP) in one benchmark, in rounds: each round carries ratioRound
// messages over each of two already-connected pairs in turn, and each is
// timed. BenchmarkTCP runs them one after another, seconds apart, so
// whatever else the machine is doing weighs on them unequally and their
// ratios wander from run to run; interleaved, they share the weather. The
// framed conn's receiver calls Recv or RecvInto, in separate
// sub-benchmarks: Recv's garbage sets off collections that would slow the
// other pairs too. The metrics are the ratio of raw's time per message to
// the framed one's (framed/raw: 1 means as fast as raw, 0.5 half as fast)
// and the times themselves; ns/op is the two times added up. Run them with
//
//	go test -run='^$' -bench=TCPRatio -count=5 ./transport/
func BenchmarkTCPRatio(b *testing.B) {
	for _, size := range []int{64, 4096} {
		for _, senders := range []int{1, 64} {
			for _, into := range []bool{false, true} {
				name := sizeName(size) + "/" + strconv.Itoa(senders) + "sender"
				if senders > 1 {
					name += "s"
				}
				name += map[bool]string{false: "/Recv", true: "/RecvInto"}[into]
				b.Run(name, func(b *testing.B) { benchRatio(b, size, senders, into) })
			}
		}
	}
}

// ratioRound is how many messages a round carries over each pair: enough
// that starting and ending a round (waking the senders, filling and
// draining the pipeline) is a small part of it.
const ratioRound = 16384

// A ratioPair carries n messages per call to round, from its senders to
// the benchmark's goroutine, and returns when the last has been received.
type ratioPair struct {
	round func(n int) error
	stop  func()
}

func benchRatio(b *testing.B, size, senders int, into bool) {
	kinds := []struct {
		name string
		pair ratioPair
		took time.Duration
	}{
		{name: "framed", pair: framedRatioPair(b, size, senders, into)},
		{name: "raw", pair: rawRatioPair(b, size)},
	}
	for _, k := range kinds {
		defer k.pair.stop()
		if err := k.pair.round(ratioRound); err != nil { // warm up
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for r, left := 0, b.N; left > 0; r++ {
		n := min(left, ratioRound)
		left -= n
		for i := range kinds {
			k := &kinds[(i+r)%len(kinds)] // each goes first in turn
			start := time.Now()
			if err := k.pair.round(n); err != nil {
				b.Fatal(err)
			}
			k.took += time.Since(start)
		}
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	for _, k := range kinds {
		b.ReportMetric(per(k.took), k.name+"-ns/msg")
	}
	b.ReportMetric(per(kinds[1].took)/per(kinds[0].took), "framed/raw")
}

// framedRatioPair is a transport.NewConn pair over TCP with senders
// goroutines sending; the benchmark's goroutine receives with Recv, or
// RecvInto reusing one buffer.
func framedRatioPair(b *testing.B, size, senders int, into bool) ratioPair {
	x, y := tcpPair(b)
	a, r := transport.NewConn(x), transport.NewConn(y)
	ctx := context.Background()
	msg := make([]byte, size)
	work := make([]chan int, senders)
	var wg sync.WaitGroup
	for s := range work {
		work[s] = make(chan int, 1)
		wg.Add(1)
		go func() { // exits when stop closes its work channel
			defer wg.Done()
			for n := range work[s] {
				for range n {
					if err := a.Send(ctx, msg); err != nil {
						b.Error(err)
					}
				}
			}
		}()
	}
	var buf []byte
	return ratioPair{
		round: func(n int) error {
			for s := range work {
				work[s] <- n/senders + boolInt(s < n%senders)
			}
			for range n {
				var err error
				if into {
					buf, err = transport.RecvInto(ctx, r, buf)
				} else {
					_, err = r.Recv(ctx)
				}
				if err != nil {
					return err
				}
			}
			return nil
		},
		stop: func() {
			for _, w := range work {
				close(w)
			}
			wg.Wait()
			a.Close()
			r.Close()
		},
	}
}

// rawRatioPair is the rawBatched loop of BenchmarkTCP: one goroutine
// writing length-prefixed frames through a bufio.Writer, flushed at the end
// of each round, and the benchmark's goroutine parsing them through a
// bufio.Reader.
func rawRatioPair(b *testing.B, size int) ratioPair {
	x, y := tcpPair(b)
	msg := make([]byte, size)
	work := make(chan int, 1)
	done := make(chan struct{})
	go func() { // exits when stop closes work
		defer close(done)
		bw := bufio.NewWriterSize(x, 64<<10)
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(size))
		for n := range work {
			for range n {
				bw.Write(hdr[:])
				bw.Write(msg)
			}
			if err := bw.Flush(); err != nil {
				b.Error(err)
			}
		}
	}()
	br := bufio.NewReaderSize(y, 64<<10)
	buf := make([]byte, size)
	var hdr [4]byte
	return ratioPair{
		round: func(n int) error {
			work <- n
			for range n {
				if _, err := io.ReadFull(br, hdr[:]); err != nil {
					return err
				}
				if _, err := io.ReadFull(br, buf[:binary.BigEndian.Uint32(hdr[:])]); err != nil {
					return err
				}
			}
			return nil
		},
		stop: func() {
			close(work)
			<-done
			x.Close()
			y.Close()
		},
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
