package rafttest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// faultCounts counts what the network did to the servers' messages, as
// its observer sees it.
type faultCounts struct {
	sent       atomic.Int64
	duplicated atomic.Int64
	dropped    [netsim.ReasonQueueFull + 1]atomic.Int64 // by DropReason
}

// observe is the network's observer: quick, and safe for concurrent use.
func (c *Cluster) observe(e netsim.Event) {
	switch e.Kind {
	case netsim.EventSend:
		c.faults.sent.Add(1)
	case netsim.EventDuplicate:
		c.faults.duplicated.Add(1)
	case netsim.EventDrop:
		if int(e.Reason) < len(c.faults.dropped) {
			c.faults.dropped[e.Reason].Add(1)
		}
	}
}

// Report says what hit the cluster so far: the seed, the messages the
// network lost and why, the crashes, restarts, disconnections and
// partitions, and the network's mode. The harness adds it to every
// failure.
func (c *Cluster) Report() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := &c.faults
	var b strings.Builder
	fmt.Fprintf(&b, "rafttest: seed %d (New(t, %d, %d, ...) replays the run)\n", c.seed, c.n, c.seed)
	fmt.Fprintf(&b, "rafttest: what hit: %d of %d messages lost (%d to faults, %d to partitions and disconnections, %d to crashes, %d to closed conns), %d duplicated",
		c.dropped(), f.sent.Load(), f.dropped[netsim.ReasonFault].Load(), f.dropped[netsim.ReasonPartition].Load(),
		f.dropped[netsim.ReasonCrash].Load(), f.dropped[netsim.ReasonClosed].Load(), f.duplicated.Load())
	fmt.Fprintf(&b, "; %d crashes, %d restarts, %d disconnections, %d partitions; %d snapshots installed",
		c.crashes, c.starts-c.n, c.disconnects, c.partitions, c.check.installs)
	mode := "reliable"
	if !c.reliable {
		mode = "unreliable"
	}
	if c.longReorder {
		mode += ", long reordering"
	}
	if c.longDelays {
		mode += ", long delays"
	}
	fmt.Fprintf(&b, "; network now %s", mode)
	return b.String()
}

func (c *Cluster) dropped() int64 {
	var n int64
	for i := range c.faults.dropped {
		n += c.faults.dropped[i].Load()
	}
	return n
}

// cleanup closes the cluster at the end of the test and, if it failed,
// logs the report. (The diagram is written by the Recorder's own
// cleanup, registered before this one, so it runs after it.)
func (c *Cluster) cleanup() {
	c.Close()
	if c.t.Failed() {
		c.t.Logf("%s", c.Report())
	}
}

// wrapListener traces the conns server i accepts, if tracing.
func (c *Cluster) wrapListener(i int, l transport.Listener) transport.Listener {
	if c.rec == nil {
		return l
	}
	return labelListener{c.rec.Node(c.names[i]).WrapListener(l)}
}

// wrapDialer traces the conns server i dials, if tracing.
func (c *Cluster) wrapDialer(i int, d transport.Dialer) transport.Dialer {
	if c.rec == nil {
		return d
	}
	return labelDialer{c.rec.Node(c.names[i]).WrapDialer(d)}
}

// labelConn names each message it sends after its raft message type, so
// that the diagram's arrows say "AppendEntries", "RequestVote", ...
// Messages of another encoding (a Raft of one's own) go unnamed.
type labelConn struct{ transport.Conn }

func (c labelConn) Send(ctx context.Context, msg []byte) error {
	if m, err := raft.DecodeMessage(msg); err == nil {
		ctx = trace.ContextWithLabel(ctx, m.Type.String())
	}
	return c.Conn.Send(ctx, msg)
}

type labelListener struct{ transport.Listener }

func (l labelListener) Accept(ctx context.Context) (transport.Conn, error) {
	conn, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return labelConn{conn}, nil
}

type labelDialer struct{ transport.Dialer }

func (d labelDialer) Dial(ctx context.Context, addr string) (transport.Conn, error) {
	conn, err := d.Dialer.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return labelConn{conn}, nil
}
