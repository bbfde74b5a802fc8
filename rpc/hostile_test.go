package rpc_test

import (
	"encoding/binary"
	"flag"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

var (
	hostile        = flag.Int("hostile", 0, "measure what this many hostile connections cost a server (0: skip)")
	hostileTimeout = flag.Duration("hostile-timeout", 0, "with -hostile, the server's idle and stall timeouts; measure again after 2.5 of them (0: defaults, measure once)")
)

// TestHostileFootprint measures, on real TCP, the goroutines and heap that
// N hostile connections hold on a server with default options. It is a
// measurement, not a check, and runs only with -hostile=N:
//
//	go test -run=TestHostileFootprint -hostile=200 -v ./rpc/
//
// The attacks: "idle" connects and sends nothing; "slowloris" starts a
// frame and never finishes it; "nonreader" sends calls whose replies are
// large (100 calls for 64 KiB each) and never reads them.
func TestHostileFootprint(t *testing.T) {
	if *hostile == 0 {
		t.Skip("a measurement; run with -hostile=N")
	}
	n := *hostile
	attacks := []struct {
		name string
		send func(nc net.Conn) error
	}{
		{"idle", func(net.Conn) error { return nil }},
		{"slowloris", func(nc net.Conn) error {
			_, err := nc.Write([]byte{0, 0, 0x40, 0, 1, 1}) // announces 16 KiB, sends 2 bytes
			return err
		}},
		{"nonreader", func(nc net.Conn) error {
			var msgs []byte
			for seq := range 100 {
				msgs = append(msgs, rawMakeRequest(uint64(seq+1), 64<<10)...)
			}
			_, err := nc.Write(msgs)
			return err
		}},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			l, err := transport.ListenTCP("127.0.0.1:0")
			require.NoError(t, err)
			srv := rpc.NewServer(hostileServerOptions()...)
			require.NoError(t, srv.Register(Big{}))
			done := make(chan struct{})
			go func() { defer close(done); _ = srv.Serve(l) }()
			defer func() { srv.Close(); <-done }()

			g0, h0 := settle()
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for range n {
				nc, err := net.Dial("tcp", l.Addr().String())
				require.NoError(t, err)
				conns = append(conns, nc)
				require.NoError(t, a.send(nc))
			}
			g1, h1 := settle()
			t.Logf("%s: %d conns hold %d goroutines (%.1f per conn) and %.1f MiB of heap (%.1f KiB per conn)",
				a.name, n, g1-g0, float64(g1-g0)/float64(n), float64(h1-h0)/(1<<20), float64(h1-h0)/float64(n)/1024)
			if *hostileTimeout > 0 {
				time.Sleep(*hostileTimeout * 5 / 2)
				g2, h2 := settle()
				t.Logf("%s: %v later, %d goroutines and %.1f MiB of heap", a.name, *hostileTimeout*5/2, g2-g0, float64(int64(h2)-int64(h0))/(1<<20))
			}
		})
	}
}

// settle waits until the number of goroutines stops changing, then
// returns it and the heap in use after a collection. A measurement tool
// may poll the clock; a test may not.
func settle() (goroutines int, heap uint64) {
	last, same := -1, 0
	for same < 5 {
		time.Sleep(100 * time.Millisecond)
		if g := runtime.NumGoroutine(); g == last {
			same++
		} else {
			last, same = g, 0
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapInuse
}

// rawMakeRequest is a framed request for Big.Make(size), built by hand as
// a hostile client would.
func rawMakeRequest(seq uint64, size int) []byte {
	body, err := rpc.NewGobCodec().Append(nil, &size)
	if err != nil {
		panic(err)
	}
	msg := []byte{1, 1, 0} // version, request, no flags
	msg = binary.AppendUvarint(msg, seq)
	msg = binary.AppendUvarint(msg, uint64(len("Big.Make")))
	msg = append(msg, "Big.Make"...)
	msg = binary.AppendUvarint(msg, uint64(len("gob")))
	msg = append(msg, "gob"...)
	msg = append(msg, body...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)
}

func hostileServerOptions() []rpc.ServerOption {
	if *hostileTimeout == 0 {
		return nil
	}
	return []rpc.ServerOption{rpc.WithIdleTimeout(*hostileTimeout), rpc.WithStallTimeout(*hostileTimeout)}
}
