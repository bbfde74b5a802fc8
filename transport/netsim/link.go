package netsim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// A link is one direction between two nodes: from -> to. Its faults,
// limits, counters and random generator are its own.
type link struct {
	from, to *node
	faults   *transport.Faults // nil: the network's default faults
	limits   Limits
	// rng decides the faults of this link alone, so what happens on one
	// link does not depend on the traffic of any other.
	rng        *rand.Rand
	busyUntil  time.Time // when the link has sent what it was given (Limits.Bandwidth)
	inFlight   int       // items of this link in the network's inFlight heap
	counts     Counts
	faultStats transport.FaultStats
	cut        cutClock // separated by a partition or Disconnect
}

type linkKey struct{ from, to string }

// link returns the link from -> to, creating it (and its nodes) if needed.
// The caller holds n.mu.
func (n *Network) link(from, to string) *link {
	if l, ok := n.links[linkKey{from, to}]; ok {
		return l
	}
	l := &link{from: n.node(from), to: n.node(to), rng: linkRand(n.seed, from, to)}
	n.links[linkKey{from, to}] = l
	l.cut.set(n.isCut(l.from, l.to), time.Now())
	return l
}

// linkRand returns the generator of the link from -> to: seeded from the
// network's seed and the two names, so it is the same in every run.
func linkRand(seed int64, from, to string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(from))
	h.Write([]byte{0})
	h.Write([]byte(to))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// faultsOf returns the faults messages on l meet. The caller holds n.mu.
func (n *Network) faultsOf(l *link) transport.Faults {
	if l.faults != nil {
		return *l.faults
	}
	return n.defaults
}

// SetFaults sets the faults of one direction of one link: messages and
// datagrams that from sends to to. It takes effect atomically: every
// message sent after SetFaults returns meets f, every message sent before
// keeps the fate it was given when sent. f.Seed is ignored: the network's
// seed decides. The link keeps f, whatever SetDefaultFaults does, until
// SetFaults or ClearFaults is called for it again. SetFaults returns an
// error matching transport.ErrInvalidFaults (and changes nothing) if f is
// not valid, and ErrInvalidNode for an empty name.
func (n *Network) SetFaults(from, to string, f transport.Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if err := checkNode(from); err != nil {
		return err
	}
	if err := checkNode(to); err != nil {
		return err
	}
	n.mu.Lock()
	n.link(from, to).faults = &f
	n.reportChange(Event{Kind: EventFaults, From: from, To: to, Faults: f})
	n.mu.Unlock()
	n.flush()
	return nil
}

// ClearFaults makes the link from -> to follow the default faults again,
// for messages sent after it returns. It panics if a name is empty.
func (n *Network) ClearFaults(from, to string) {
	mustNode(from)
	mustNode(to)
	n.mu.Lock()
	n.link(from, to).faults = nil
	n.reportChange(Event{Kind: EventFaults, From: from, To: to, Faults: n.defaults, Cleared: true})
	n.mu.Unlock()
	n.flush()
}

// SetDefaultFaults sets the faults of every link that has none of its own
// (see SetFaults), atomically, like SetFaults. It returns an error
// matching transport.ErrInvalidFaults, and changes nothing, if f is not
// valid.
func (n *Network) SetDefaultFaults(f transport.Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	n.mu.Lock()
	n.defaults = f
	n.reportChange(Event{Kind: EventFaults, Faults: f})
	n.mu.Unlock()
	n.flush()
	return nil
}

// UnreliableFaults returns the faults of labrpc's unreliable network,
// which SetReliable(false) applies: one message in ten lost, the others
// delayed by up to 27 ms, and so sometimes overtaken.
func UnreliableFaults() transport.Faults {
	return transport.Faults{Drop: 0.1, Jitter: 27 * time.Millisecond}
}

// SetReliable is labrpc's switch: SetReliable(false) sets the default
// faults to UnreliableFaults, SetReliable(true) to none. Links with faults
// of their own keep them.
func (n *Network) SetReliable(reliable bool) {
	f := UnreliableFaults()
	if reliable {
		f = transport.Faults{}
	}
	_ = n.SetDefaultFaults(f) // both are valid
}

// Limits is the capacity of one direction of a link. The zero value is an
// unlimited link.
type Limits struct {
	// Bandwidth is how many bytes per second the link carries; zero means
	// no limit. Messages go out one after another, each taking
	// len/Bandwidth, so a message sent while others are still going out
	// waits for them (queueing delay) before its own Delay starts.
	Bandwidth int64
	// Queue is how many bytes may wait on the link to go out; zero means
	// no limit. When a message would not fit, Send on a conn blocks until
	// it does (backpressure), and a datagram is dropped (a router's tail
	// drop). A message alone on an idle link always goes. Queue needs a
	// Bandwidth: without one nothing ever waits.
	Queue int
}

// SetLimits sets the capacity of one direction of a link, for messages
// sent after it returns. Zero Limits make the link unlimited again, which
// every link is by default. It returns an error matching ErrInvalidLimits
// for negative values, or a Queue without a Bandwidth, and ErrInvalidNode
// for an empty name.
func (n *Network) SetLimits(from, to string, l Limits) error {
	if l.Bandwidth < 0 || l.Queue < 0 || (l.Queue > 0 && l.Bandwidth == 0) {
		return fmt.Errorf("%w: %+v", ErrInvalidLimits, l)
	}
	if err := checkNode(from); err != nil {
		return err
	}
	if err := checkNode(to); err != nil {
		return err
	}
	n.mu.Lock()
	n.link(from, to).limits = l
	n.reportChange(Event{Kind: EventLimits, From: from, To: to, Limits: l})
	n.mu.Unlock()
	n.flush()
	return nil
}

// depart puts size bytes on the link now and returns when they have gone
// out: now if the bandwidth is unlimited, later if the link is busy or
// slow.
func (l *link) depart(size int, now time.Time) time.Time {
	if l.limits.Bandwidth <= 0 {
		return now
	}
	start := now
	if l.busyUntil.After(now) {
		start = l.busyUntil
	}
	l.busyUntil = start.Add(l.sendTime(size))
	return l.busyUntil
}

// queueWait returns how long a message of size bytes must wait before it
// fits in the link's queue: zero if it fits now.
func (l *link) queueWait(size int, now time.Time) time.Duration {
	if l.limits.Queue <= 0 {
		return 0
	}
	backlog := l.busyUntil.Sub(now) // how long the link needs to send what waits
	if backlog <= 0 {
		return 0
	}
	room := l.sendTime(max(0, l.limits.Queue-size)) // how much may wait before this message
	return max(0, backlog-room)
}

// sendTime is how long the link takes to send size bytes.
func (l *link) sendTime(size int) time.Duration {
	return time.Duration(int64(size) * int64(time.Second) / l.limits.Bandwidth)
}
