package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// Defaults of the live demo, for the flags not given.
const liveMessages = 3 // messages each member sends a round, unless -messages says

// liveWindow is the flow-control window of the page's conns (netsim's
// WithWindow): about eight messages may be on their way to a member, or
// unread by it, before the server's Send to it waits. It plays the part
// of the TCP buffers of the run over real sockets: small, so that a slow
// link fills it within a round or two, and the member's queue then
// overflows.
const liveWindow = 1 << 10

// joinWait bounds how long a member waits to join the room (the server
// may be down), and settleWait how long a round waits for the messages
// on their way before it counts (a slowed link may hold them far longer).
const (
	joinWait   = time.Second
	settleWait = 300 * time.Millisecond
)

// liveChat is the room and its members on the page's network.
type liveChat struct {
	nw      *netsim.Network
	tr      *demo.Tracer
	out     io.Writer
	queue   int
	srv     *liveServer // nil while the server's node is down
	members []*liveMember

	mu      sync.Mutex     // protects dropped
	dropped map[string]int // messages the room dropped for each member, by name
}

// live runs the room for a lecture, under the dashboard of -dashboard:
// every round each member up sends -messages messages to the room, until
// Ctrl-C, while the instructor slows and cuts links and crashes nodes on
// the page. A member whose link is slow fills its queue, and the room
// drops its messages and goes on; a crashed member stops hearing and
// talking, and joins again when restarted; a crashed server takes the
// room with it, and the members join the new one.
func live(ctx context.Context, cfg config, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	tr.RecordInMemory() // the messages carry stamps: the page names them
	lc := &liveChat{
		nw:      netsim.NewNetwork(1, append(tr.NetsimOptions(), netsim.WithWindow(liveWindow))...),
		tr:      tr,
		queue:   cfg.queue,
		dropped: map[string]int{},
	}
	defer lc.nw.Close()
	names := []string{"alice", "bob", "carol"}
	dash, err := demo.StartDashboard(fs, lc.nw, stdout,
		dashboard.WithTitle("chat: a room that a slow member cannot stall"),
		dashboard.WithNodes(append(names, "server")...))
	if err != nil {
		return err
	}
	defer dash.Close()
	lc.out = dash.Out()
	if err := lc.startServer(ctx); err != nil {
		return err
	}
	defer lc.close()
	for _, name := range names {
		lc.members = append(lc.members, &liveMember{name: name})
	}
	fmt.Fprintf(lc.out, "chat: alice, bob and carol join the room on \"server\"; each round every member sends %d messages,\n", cfg.messages)
	fmt.Fprintf(lc.out, "which the server relays to the others. Each member has a queue of %d messages on the server.\n", cfg.queue)
	fmt.Fprintln(lc.out, "Slow a member's link from the server (a delay of seconds), or cut it: the room goes on, and once that")
	fmt.Fprintln(lc.out, "member's queue is full the server drops its messages. Crash a member: it leaves; restarted, it joins again.")

	round := func(ctx context.Context, r int) error {
		fmt.Fprintf(lc.out, "Round %d:\n", r)
		lc.talk(ctx, r, cfg.messages, dash.Up)
		sctx, cancel := context.WithTimeout(ctx, settleWait)
		defer cancel()
		_ = demo.Settle(sctx, lc.nw, append(names, "server")...) // a slowed link holds messages longer: count what came
		lc.account(r)
		return nil
	}
	react := func(e netsim.Event) error {
		if e.Node != "server" {
			return nil // a crashed member's conn is closed; its next round joins it again
		}
		switch e.Kind {
		case netsim.EventCrash:
			lc.stopServer()
			fmt.Fprintln(lc.out, "The room was in the server's memory: gone, with every member's queue.")
		case netsim.EventRestart:
			lc.stopServer() // in case its crash was not seen
			lc.hangUpAll()
			fmt.Fprintln(lc.out, "A new room starts, empty: the members' old connections are dead, and they join again.")
			return lc.startServer(ctx)
		}
		return nil
	}
	if err := dash.Live(ctx, demo.RoundGap, round, react); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// liveMember is a member of the room on the page's network, with the
// messages it has received so far.
type liveMember struct {
	name     string
	conn     transport.Conn // nil until it joins
	done     chan struct{}  // closed when its reader exits: the connection died
	received atomic.Int64   // messages from other members
	wg       sync.WaitGroup // its reader
	sent     int            // messages sent this round; written by the round only
	status   string         // what kept it from talking this round, or that it joined again
	left     bool           // it was in the room once: it joins again

	lastReceived, lastDropped int // the counts at the end of the round before
}

// joined reports whether m is in the room: it has a connection, and its
// reader still reads it.
func (m *liveMember) joined() bool {
	if m.conn == nil {
		return false
	}
	select {
	case <-m.done:
		return false
	default:
		return true
	}
}

// hangUp closes m's connection and waits for its reader.
func (m *liveMember) hangUp() {
	if m.conn != nil {
		m.conn.Close()
		m.wg.Wait()
		m.conn = nil
	}
}

// talk has every member that is up join the room if it is not in it,
// and then every member in the room send n messages.
func (lc *liveChat) talk(ctx context.Context, r, n int, up func(string) bool) {
	for _, m := range lc.members {
		m.sent, m.status = 0, ""
		switch {
		case !up(m.name):
			m.status = "is down: it sends and hears nothing"
			m.hangUp()
		case !m.joined():
			m.hangUp()
			if err := lc.join(ctx, m); err != nil {
				m.status = fmt.Sprintf("cannot join the room: %v", err)
			} else if m.left {
				m.status = "joins the room again"
			}
		}
	}
	for _, m := range lc.members {
		if m.conn == nil {
			continue
		}
		m.left = true
		sctx, cancel := context.WithTimeout(ctx, joinWait)
		for i := range n {
			msg := fmt.Sprintf("message %d of round %d %s", i+1, r, filler)
			if err := m.conn.Send(sctx, []byte(msg)); err != nil {
				m.status = fmt.Sprintf("could not send: %v", err)
				break
			}
			m.sent++
		}
		cancel()
	}
}

// join connects m to the server, sends its name, waits for the welcome,
// and starts its reader.
func (lc *liveChat) join(ctx context.Context, m *liveMember) error {
	jctx, cancel := context.WithTimeout(ctx, joinWait)
	defer cancel()
	c, err := lc.nw.Dial(jctx, m.name, "server")
	if err != nil {
		return err
	}
	c = lc.tr.WrapConn(m.name, c)
	if err := c.Send(jctx, []byte(m.name)); err != nil {
		c.Close()
		return err
	}
	if _, err := c.Recv(jctx); err != nil { // "* welcome, name"
		c.Close()
		return err
	}
	m.conn, m.done = c, make(chan struct{})
	m.wg.Go(func() { // exits when the connection dies or is closed (hangUp)
		defer close(m.done)
		for {
			msg, err := c.Recv(ctx)
			if err != nil {
				return
			}
			if !strings.HasPrefix(string(msg), "*") {
				m.received.Add(1)
			}
		}
	})
	return nil
}

// account narrates what each member sent, received and had dropped by
// the room in the round, and so far.
func (lc *liveChat) account(r int) {
	lc.mu.Lock()
	dropped := make(map[string]int, len(lc.dropped))
	for k, v := range lc.dropped {
		dropped[k] = v
	}
	lc.mu.Unlock()
	for _, m := range lc.members {
		if m.status != "" {
			fmt.Fprintf(lc.out, "   %s %s.\n", m.name, m.status)
		}
		got, lost := int(m.received.Load()), dropped[m.name]
		fmt.Fprintf(lc.out, "   %-5s sent %d; received %d (%d in all); the room dropped %d for %s (%d in all).\n",
			m.name, m.sent, got-m.lastReceived, got, lost-m.lastDropped, m.name, lost)
		m.lastReceived, m.lastDropped = got, lost
	}
}

// hangUpAll closes every member's connection.
func (lc *liveChat) hangUpAll() {
	for _, m := range lc.members {
		m.hangUp()
	}
}

// close ends the run: the members hang up and the server stops.
func (lc *liveChat) close() {
	lc.hangUpAll()
	lc.stopServer()
}

// maxLiveMessages bounds -messages with -dashboard: a round's messages
// must cross the page before the next round.
const maxLiveMessages = 50

// given reports whether the flag name was set on the command line.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
