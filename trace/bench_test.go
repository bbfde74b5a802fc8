package trace_test

import (
	"context"
	"net"
	"testing"

	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

// benchRoundTrip sends a 100-byte message from a to b and back, b.N times.
func benchRoundTrip(b *testing.B, a, z transport.Conn) {
	ctx := context.Background()
	msg := make([]byte, 100)
	b.SetBytes(int64(2 * len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
		got, err := z.Recv(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := z.Send(ctx, got); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func pipeConns(b *testing.B) (transport.Conn, transport.Conn) {
	x, y := net.Pipe()
	a, z := transport.NewConn(x), transport.NewConn(y)
	b.Cleanup(func() { a.Close(); z.Close() })
	return a, z
}

// BenchmarkRoundTrip compares a message round trip over net.Pipe with and
// without tracing: the baseline is transport.NewConn alone.
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		a, z := pipeConns(b)
		benchRoundTrip(b, a, z)
	})
	b.Run("traced", func(b *testing.B) {
		a, z := pipeConns(b)
		// Keep the recorder's memory flat over b.N: the cost measured is
		// stamping, merging and recording, not a growing slice.
		rec := trace.NewRecorder(trace.WithMaxEvents(1000))
		benchRoundTrip(b, rec.Node("a").Wrap(a), rec.Node("z").Wrap(z))
	})
}

func BenchmarkVectorClockMerge(b *testing.B) {
	v := trace.VectorClock{"a": 5, "b": 3, "c": 9, "d": 1, "e": 2}
	w := trace.VectorClock{"a": 4, "b": 7, "c": 9, "f": 1}
	b.ReportAllocs()
	for b.Loop() {
		v = v.Merge(w).Tick("a")
	}
}

func BenchmarkWriteHTML(b *testing.B) {
	rec := trace.NewRecorder()
	nodes := []*trace.Node{rec.Node("a"), rec.Node("b"), rec.Node("c")}
	for i := range 1000 {
		nodes[i%3].Logf("event %d", i)
	}
	events := rec.Events()
	b.ReportAllocs()
	for b.Loop() {
		if err := trace.WriteHTML(discard{}, "bench", events); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
