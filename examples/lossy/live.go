package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"sync/atomic"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// liveMessages is how many messages each live round sends each way,
// unless -n says: few enough to watch them cross the page.
const liveMessages = 20

// maxLiveMessages bounds -n with -dashboard: a round must end before the
// class forgets the one before.
const maxLiveMessages = 200

// The live demo's two nodes. Each round opens their datagram sockets on
// the page's network, first for the raw datagrams and then for the
// reliable connection, and closes them at the end of each run.
const (
	sender   = "sender"
	receiver = "receiver"
)

// live runs the lesson of lossy for a lecture, under the dashboard of
// -dashboard: every round the sender sends messages 1..n as raw datagrams
// and then over transport/reliable, on the page's simulated network
// rather than on 127.0.0.1, until Ctrl-C. The instructor changes the
// drop, delay and duplicate sliders, cuts the link or crashes a node:
// the raw datagrams show the damage, and the reliable connection delivers
// every message once, in order, with more retransmissions, or says that
// it gave up on its peer.
func live(ctx context.Context, cfg config, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	tr.RecordInMemory() // the reliable conn's messages carry stamps: the page names them
	nw := netsim.NewNetwork(cfg.faults.Seed, tr.NetsimOptions()...)
	defer nw.Close()
	if err := nw.SetDefaultFaults(cfg.faults); err != nil {
		return err
	}
	dash, err := demo.StartDashboard(fs, nw, stdout,
		dashboard.WithTitle("lossy: raw datagrams and transport/reliable on a faulty network"),
		dashboard.WithNodes(sender, receiver))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := dash.Out()
	fmt.Fprintf(out, "lossy: each round %s sends messages 1..%d to %s twice: as raw datagrams, and then over\n", sender, cfg.n, receiver)
	fmt.Fprintf(out, "transport/reliable, on the page's network (faults now: %s).\n", cfg.faults)
	fmt.Fprintln(out, "Move the drop, delay and duplicate sliders, cut the link, crash a node: the raw datagrams show the damage,")
	fmt.Fprintln(out, "and the reliable connection sends again what was lost, until every message arrived once, in order.")

	var total liveTotals
	round := func(ctx context.Context, r int) error {
		fmt.Fprintf(out, "Round %d:\n", r)
		if down := downNode(dash); down != "" {
			fmt.Fprintf(out, "   %s is down: nothing is sent this round.\n", down)
			return nil
		}
		raw, err := liveRaw(ctx, nw, cfg)
		if err != nil {
			fmt.Fprintf(out, "   raw datagrams: stopped: %v.\n", err)
		} else {
			total.rawSent += raw.sent
			total.rawArrived += raw.distinct
			fmt.Fprintf(out, "   raw datagrams: %d of %d arrived; %d lost, %d duplicated, %d out of order. Nobody resends the lost ones.\n",
				raw.distinct, raw.sent, len(raw.missing), raw.duplicated, raw.reordered)
		}
		rel, err := liveReliable(ctx, nw, cfg, tr)
		switch {
		case err != nil:
			fmt.Fprintf(out, "   transport/reliable: could not start: %v.\n", err)
		case rel.err != nil:
			fmt.Fprintf(out, "   transport/reliable: FAILED after delivering %d of %d in order: %v.\n", rel.distinct, rel.sent, rel.err)
			fmt.Fprintf(out, "   For %v nothing got through, and the protocol declared its peer lost.\n", lostAfter(protocol(cfg)))
		default:
			total.relSent += rel.sent
			total.relDelivered += rel.distinct
			fmt.Fprintf(out, "   transport/reliable: %d of %d delivered; %d duplicated, %d out of order; %d segments sent again, %d duplicates thrown away.\n",
				rel.distinct, rel.sent, rel.duplicated, rel.reordered, rel.sender.Retransmissions, rel.receiver.Duplicates)
		}
		fmt.Fprintf(out, "   So far: raw datagrams %d of %d arrived; transport/reliable %d of %d delivered.\n",
			total.rawArrived, total.rawSent, total.relDelivered, total.relSent)
		return nil
	}
	if err := dash.Live(ctx, demo.RoundGap, round, nil); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// liveTotals adds up the rounds that ran to their end.
type liveTotals struct {
	rawSent, rawArrived   int
	relSent, relDelivered int
}

// given reports whether the flag name was set on the command line.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// downNode returns the node of the two that the page crashed, if any.
func downNode(dash *demo.Dashboard) string {
	for _, n := range []string{sender, receiver} {
		if !dash.Up(n) {
			return n
		}
	}
	return ""
}

// liveRaw sends the stream as raw datagrams from sender to receiver on
// nw. The receiver stops once the sender is done and nothing has come for
// the quiet period of the link's faults now.
func liveRaw(ctx context.Context, nw *netsim.Network, cfg config) (result, error) {
	send, recv, err := packetPair(nw)
	if err != nil {
		return result{}, err
	}
	se, re := transport.NewEndpoint(send), transport.NewEndpoint(recv)
	defer se.Close()
	defer re.Close()
	t, elapsed, err := streamOverUDP(ctx, se, re, cfg, quietPeriod(linkFaults(nw, sender, receiver)))
	return t.result("raw datagrams", elapsed), err
}

// liveReliable sends the stream over a transport/reliable connection
// between the two nodes' datagram sockets on nw.
func liveReliable(ctx context.Context, nw *netsim.Network, cfg config, tr *demo.Tracer) (reliableRun, error) {
	spc, lpc, err := packetPair(nw)
	if err != nil {
		return reliableRun{}, err
	}
	var delivered atomic.Int64
	return reliableStream(ctx, lpc, spc, cfg, tr, &delivered)
}

// packetPair opens the datagram sockets of sender and receiver on nw.
func packetPair(nw *netsim.Network) (send, recv net.PacketConn, err error) {
	if send, err = nw.ListenPacket(sender); err != nil {
		return nil, nil, err
	}
	if recv, err = nw.ListenPacket(receiver); err != nil {
		send.Close()
		return nil, nil, err
	}
	return send, recv, nil
}

// linkFaults returns the faults that datagrams from one node to another
// meet now: the link's own, or the network's defaults.
func linkFaults(nw *netsim.Network, from, to string) transport.Faults {
	st := nw.State()
	for _, l := range st.Links {
		if l.From == from && l.To == to {
			return l.Faults
		}
	}
	return st.Defaults
}
