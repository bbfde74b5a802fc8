package demo

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/trace/tracerpc"
	"github.com/distsys-kit/distsys/trace/tracesim"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// Tracer records a run for the -trace DIR flag, with package
// trace. A Tracer made with an empty directory records nothing,
// and all its methods are then no-ops, so an example calls them
// unconditionally.
type Tracer struct {
	dir  string
	opts []trace.Option
	rec  *trace.Recorder // nil when not tracing
}

// NewTracer returns a Tracer that will write its files to dir; with dir
// empty it records nothing. Options are passed to trace.NewRecorder.
func NewTracer(dir, title string, opts ...trace.Option) *Tracer {
	opts = append([]trace.Option{trace.WithTitle(title)}, opts...)
	if dir == "" {
		return &Tracer{opts: opts}
	}
	return &Tracer{dir: dir, opts: opts, rec: trace.NewRecorder(opts...)}
}

// RecordInMemory makes the Tracer record even without a directory, and
// write nothing: the rpc calls then carry trace stamps, by which a
// dashboard names the messages it shows ("Primary.Put"). Call it before
// using the Tracer's options.
func (t *Tracer) RecordInMemory() {
	if t.rec == nil {
		t.rec = trace.NewRecorder(t.opts...)
	}
}

// On reports whether the run is being recorded.
func (t *Tracer) On() bool { return t.rec != nil }

// Recorder returns the recorder, or nil when not tracing.
func (t *Tracer) Recorder() *trace.Recorder { return t.rec }

// Logf records a local event on node, shown as a dot on its line.
func (t *Tracer) Logf(node, format string, args ...any) {
	if t.rec != nil {
		t.rec.Node(node).Logf(format, args...)
	}
}

// Discard records that node chose not to send msg to peer, and why ("queue
// full"): a loss the program decided on, which the diagram draws as an
// orange cross, apart from the network's losses.
func (t *Tracer) Discard(node, peer, label string, msg []byte, why string) {
	if t.rec != nil {
		t.rec.Node(node).Discard(peer, label, msg, why)
	}
}

// ServerOptions returns the rpc options that trace a server on node.
func (t *Tracer) ServerOptions(node string) []rpc.ServerOption {
	if t.rec == nil {
		return nil
	}
	return []rpc.ServerOption{rpc.WithServerInterceptor(tracerpc.ServerInterceptor(t.rec.Node(node)))}
}

// ClientOptions returns the rpc options that trace a client on node that
// calls the server named server.
func (t *Tracer) ClientOptions(node, server string) []rpc.DialOption {
	if t.rec == nil {
		return nil
	}
	return []rpc.DialOption{rpc.WithClientInterceptor(tracerpc.ClientInterceptor(t.rec.Node(node), server))}
}

// WrapConn traces every message on c, a conn of node; the peer's conn must
// be wrapped too. Do not also trace rpc calls on a wrapped conn.
func (t *Tracer) WrapConn(node string, c transport.Conn) transport.Conn {
	if t.rec == nil {
		return c
	}
	return t.rec.Node(node).Wrap(c)
}

// WrapListener traces every conn that l, a listener of node, accepts.
func (t *Tracer) WrapListener(node string, l transport.Listener) transport.Listener {
	if t.rec == nil {
		return l
	}
	return t.rec.Node(node).WrapListener(l)
}

// NetsimOptions returns the netsim options that draw the simulator's drops
// as crosses in the diagram.
func (t *Tracer) NetsimOptions() []netsim.Option {
	if t.rec == nil {
		return nil
	}
	return []netsim.Option{netsim.WithObserver(tracesim.Observer(t.rec))}
}

// Prepare makes the directory, so that a bad -trace fails now, not after
// the whole run. Its error starts with "-trace: ". It does nothing when
// not tracing.
func (t *Tracer) Prepare() error {
	if t.dir == "" {
		return nil
	}
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return fmt.Errorf("-trace: %w", err)
	}
	return nil
}

// Write writes trace.html, trace.shiviz.log and trace.jsonl to the
// directory and tells out where they are.
func (t *Tracer) Write(out io.Writer) error {
	if t.dir == "" {
		return nil
	}
	if err := t.rec.WriteFiles(t.dir); err != nil {
		return fmt.Errorf("write trace: %w", err)
	}
	fmt.Fprintf(out, "\nThe space-time diagram of this run is in %s (open it in a browser);\n%s is for ShiViz.\n",
		filepath.Join(t.dir, trace.HTMLFile), filepath.Join(t.dir, trace.ShiVizFile))
	return nil
}
