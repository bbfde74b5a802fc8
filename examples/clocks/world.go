package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// world is the processes, the simulated network between them, and the
// simulated true time. The demo runs on one goroutine, one event at a
// time: a send puts the message on the network and draws its delay from
// the seed; a receive takes the next message due at a process and moves
// true time to its arrival. So a seed replays the same run.
type world struct {
	net    *netsim.Network
	tr     *demo.Tracer
	rng    *rand.Rand
	delay  time.Duration // the mean delay of a message
	now    time.Duration // true time, since noon
	procs  map[string]*process
	flying []flight // messages sent and not yet received
	events []event  // everything that happened, in true-time order
}

// process is one process: its clock's offset from true time, its logical
// clocks, and a conn to each other process.
type process struct {
	name    string
	offset  time.Duration // its clock reads true time plus this
	lamport trace.LamportClock
	vector  trace.VectorClock
	conns   map[string]transport.Conn // by peer
}

// stamp is what the three clocks of a process say at one of its events.
type stamp struct {
	Phys    time.Duration // the process's own clock, since noon
	Lamport uint64
	Vector  trace.VectorClock
}

// message is what the processes send each other: a write, or a request
// for the time and its answer (part 4).
type message struct {
	Key, Value string
	Written    stamp // for a write: the stamp of the write event
	Stamp      stamp // the stamp of the send event
}

// flight is a message on its way.
type flight struct {
	from, to string
	arrive   time.Duration // true time
}

// event is one event of one process, as the narration prints it.
type event struct {
	at    time.Duration // true time
	node  string
	what  string
	stamp stamp
	sent  *stamp // for a receive: the stamp of its send
}

// newWorld starts the processes named, each with its clock's offset from
// true time, and connects every pair of them on a fault-free simulated
// network. The caller must call close.
func newWorld(ctx context.Context, cfg config, tr *demo.Tracer, offsets map[string]time.Duration) (*world, error) {
	w := &world{
		net:   netsim.NewNetwork(cfg.seed, tr.NetsimOptions()...),
		tr:    tr,
		rng:   rand.New(rand.NewPCG(uint64(cfg.seed), 0)),
		delay: cfg.delay,
		now:   100 * time.Millisecond,
		procs: map[string]*process{},
	}
	names := slices.Sorted(maps.Keys(offsets))
	for _, name := range names {
		w.procs[name] = &process{name: name, offset: offsets[name], conns: map[string]transport.Conn{}}
	}
	for i, a := range names {
		for _, b := range names[i+1:] {
			if err := w.connect(ctx, a, b); err != nil {
				return w, err
			}
		}
	}
	return w, nil
}

// connect opens a conn between a and b; each end is traced as its process.
func (w *world) connect(ctx context.Context, a, b string) error {
	l, err := w.net.Listen(b)
	if err != nil {
		return err
	}
	defer l.Close() // the accepted conn stays open
	ca, err := w.net.Dial(ctx, a, b)
	if err != nil {
		return err
	}
	w.procs[a].conns[b] = w.tr.WrapConn(a, ca)
	cb, err := l.Accept(ctx)
	if err != nil {
		return err
	}
	w.procs[b].conns[a] = w.tr.WrapConn(b, cb)
	return nil
}

// close closes every conn and the network.
func (w *world) close() {
	for _, p := range w.procs {
		for _, c := range p.conns {
			c.Close()
		}
	}
	w.net.Close()
}

// clock returns what p's clock reads now.
func (w *world) clock(p *process) time.Duration { return w.now + p.offset }

// after moves true time on by d.
func (w *world) after(d time.Duration) { w.now += d }

// local records a local event of p, such as a write, and returns its stamp.
func (w *world) local(p *process, what string) stamp {
	s := stamp{Phys: w.clock(p), Lamport: p.lamport.Tick(), Vector: p.vector.Tick(p.name)}
	p.vector = s.Vector
	w.events = append(w.events, event{at: w.now, node: p.name, what: what, stamp: s})
	w.tr.Logf(p.name, "%s (Lamport %d)", what, s.Lamport)
	return s
}

// send sends m from p to the process named to. The send is an event of
// p, whose stamp the message carries. The message takes a delay drawn
// from the seed, but never arrives before a message sent earlier on the
// same conn: a conn delivers in order, as TCP does.
func (w *world) send(ctx context.Context, p *process, to string, m message, what string) error {
	m.Stamp = stamp{Phys: w.clock(p), Lamport: p.lamport.Tick(), Vector: p.vector.Tick(p.name)}
	p.vector = m.Stamp.Vector
	w.events = append(w.events, event{at: w.now, node: p.name, what: what, stamp: m.Stamp})
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := p.conns[to].Send(ctx, data); err != nil {
		return fmt.Errorf("%s sends to %s: %w", p.name, to, err)
	}
	// Whole milliseconds, to keep the times printed short.
	ms := int64(w.delay / time.Millisecond)
	arrive := w.now + time.Duration(ms/2+w.rng.Int64N(ms+1))*time.Millisecond
	for _, f := range w.flying {
		if f.from == p.name && f.to == to {
			arrive = max(arrive, f.arrive)
		}
	}
	w.flying = append(w.flying, flight{from: p.name, to: to, arrive: arrive})
	return nil
}

// receive has p take the next message due at it: true time moves on to
// the message's arrival, if that is later, and p's clocks witness the
// message's stamp. It returns the message and the receive's stamp.
func (w *world) receive(ctx context.Context, p *process) (message, stamp, error) {
	i := -1
	for j, f := range w.flying {
		if f.to == p.name && (i < 0 || f.arrive < w.flying[i].arrive) {
			i = j
		}
	}
	if i < 0 {
		return message{}, stamp{}, fmt.Errorf("%s waits for a message, but none is on its way", p.name)
	}
	f := w.flying[i]
	w.flying = slices.Delete(w.flying, i, i+1)
	w.now = max(w.now, f.arrive)
	data, err := p.conns[f.from].Recv(ctx)
	if err != nil {
		return message{}, stamp{}, fmt.Errorf("%s receives from %s: %w", p.name, f.from, err)
	}
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		return message{}, stamp{}, fmt.Errorf("%s receives from %s: %w", p.name, f.from, err)
	}
	s := stamp{Phys: w.clock(p), Lamport: p.lamport.Witness(m.Stamp.Lamport), Vector: p.vector.Merge(m.Stamp.Vector).Tick(p.name)}
	p.vector = s.Vector
	sent := m.Stamp
	w.events = append(w.events, event{at: w.now, node: p.name, what: "receives " + m.describe() + " from " + f.from, stamp: s, sent: &sent})
	return m, s, nil
}

// describe says what m is: "x=1", or "time?" for a question.
func (m message) describe() string {
	if m.Value == "" {
		return m.Key
	}
	return m.Key + "=" + m.Value
}
