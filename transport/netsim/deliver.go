package netsim

import (
	"bytes"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// An item is one copy of something on its way across a link: a conn
// message, a conn's end-of-stream mark or reset, or a datagram.
//
//	Send/WriteTo ──transmit──▶ faults ──▶ schedule ──┬─ due now, link idle ─▶ arrive
//	                                                 └─ later ─▶ inFlight heap ─▶ deliverLoop ─▶ arrive
//	arrive ──┬─ not holding ─▶ land
//	         └─ holding ─▶ held queue ─▶ Release/Resume ─▶ land
//
// land decides the copy's fate when it gets there: the partition, the
// crashes and the receiver of that moment count, not those of the send.
type item struct {
	at      time.Time // when it arrives
	order   uint64    // breaks ties of at: first pushed, first arrived
	kind    itemKind
	link    *link
	fromInc uint64 // the sending node's incarnation at the send
	toInc   uint64 // the receiving node's incarnation at the send
	msg     []byte
	dst     *conn  // the receiving conn end (nil for datagrams)
	srcID   uint64 // the sending conn end or packet conn, for events
	seq     uint64 // the message's number at its sender, for events

	dup, corrupted, truncated bool // what the faults did to this copy
}

type itemKind uint8

const (
	kindMessage  itemKind = iota // a conn message
	kindEOF                      // a conn's end-of-stream mark, sent by Close
	kindReset                    // a reset, answering a message to a dead conn end
	kindDatagram                 // a datagram, for whatever packet conn its node has
)

// transmit hands one message, sent now, to its link: it counts and reports
// it, applies the link's faults, and schedules the copies that survive.
// msg is a copy the network owns. The caller holds n.mu.
func (n *Network) transmit(it item, msg []byte, now time.Time) {
	l := it.link
	it.toInc = l.to.incarnation
	l.counts.sent(len(msg))
	n.report(EventSend, &it, msg, now, 0)
	if reason, ok := n.passable(&it); !ok {
		n.drop(&it, msg, reason, now)
		return
	}
	if it.kind == kindDatagram && l.queueWait(len(msg), now) > 0 {
		n.drop(&it, msg, ReasonQueueFull, now)
		return
	}
	gone := l.depart(len(msg), now)
	var ds []transport.Delivery
	if f := n.faultsOf(l); f.IsZero() {
		perfect := [1]transport.Delivery{{Msg: msg}} // skip Plan: a perfect link draws nothing, allocates nothing
		ds = perfect[:]
	} else {
		ds = f.Plan(l.rng, msg)
	}
	l.faultStats.Record(ds)
	if len(ds) == 0 {
		n.drop(&it, msg, ReasonFault, now)
		return
	}
	for i, d := range ds {
		cp := it
		cp.msg = d.Msg
		if i > 0 {
			cp.msg = bytes.Clone(d.Msg) // each copy is the receiver's own
		}
		cp.at = gone.Add(d.Delay)
		cp.dup, cp.corrupted, cp.truncated = d.Duplicate, d.Corrupted, d.Truncated
		if d.Duplicate {
			l.counts.Duplicated++
			n.report(EventDuplicate, &cp, cp.msg, now, 0)
		}
		if cp.dst != nil {
			cp.dst.used += len(cp.msg)
			if cp.at.After(cp.dst.lastAt) {
				cp.dst.lastAt = cp.at
			}
		}
		n.schedule(cp, now)
	}
}

// schedule makes it arrive at it.at: at once if that is now and nothing
// else of its link is in flight (so copies of one link that are due
// together arrive in the order they were sent), else through the inFlight
// heap and the delivery goroutine. The caller holds n.mu.
func (n *Network) schedule(it item, now time.Time) {
	if n.closed {
		return
	}
	if !it.at.After(now) && it.link.inFlight == 0 {
		n.arrive(it, now)
		return
	}
	it.link.inFlight++
	n.order++
	it.order = n.order
	n.inFlight.push(it)
	switch {
	case !n.running:
		n.running = true
		n.wg.Add(1)
		go n.deliverLoop() // exits when nothing is in flight, or at Close
	case n.inFlight[0].order == it.order:
		select { // the goroutine waits for a later item: wake it (never blocks)
		case n.wake <- struct{}{}:
		default:
		}
	}
}

// deliverLoop makes the items of the inFlight heap arrive when they are
// due. It reads the clock with time.Now and waits with a timer, so inside
// a testing/synctest bubble it runs in virtual time. It exits when the heap
// is empty (schedule starts it again) or the network is closed.
func (n *Network) deliverLoop() {
	defer n.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		n.mu.Lock()
		now := time.Now()
		for len(n.inFlight) > 0 && !n.inFlight[0].at.After(now) {
			it := n.inFlight.pop()
			it.link.inFlight--
			n.arrive(it, now)
		}
		if n.closed || len(n.inFlight) == 0 {
			n.running = false
			n.mu.Unlock()
			n.flush()
			return
		}
		wait := n.inFlight[0].at.Sub(now)
		n.mu.Unlock()
		n.flush()

		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-n.wake:
			timer.Stop()
		case <-n.done:
			timer.Stop()
		}
	}
}

// passable reports whether it may pass now, and if not, why: neither node
// may have crashed since it was sent, and no cut may separate them. The
// caller holds n.mu.
func (n *Network) passable(it *item) (DropReason, bool) {
	l := it.link
	switch {
	case l.from.crashed || l.to.crashed || l.from.incarnation != it.fromInc || l.to.incarnation != it.toInc:
		return ReasonCrash, false
	case n.isCut(l.from, l.to):
		return ReasonPartition, false
	}
	return 0, true
}

// drop counts and reports a lost copy. The caller holds n.mu.
func (n *Network) drop(it *item, msg []byte, reason DropReason, now time.Time) {
	it.link.counts.dropped(len(msg))
	n.report(EventDrop, it, msg, now, reason)
}

// arrive decides the fate of an item that has reached the end of its link,
// or holds it there while the network holds deliveries (see Hold). The
// caller holds n.mu.
func (n *Network) arrive(it item, now time.Time) {
	if n.holding {
		n.held.push(it)
		return
	}
	n.land(it, now)
}

// land decides the fate of an item at the end of its link, now: the
// partition, the crashes and the receiver of this moment count. The caller
// holds n.mu.
func (n *Network) land(it item, now time.Time) {
	reason, ok := n.passable(&it)
	switch it.kind {
	case kindMessage:
		n.arriveMessage(it, ok, reason, now)
	case kindEOF:
		if ok && !it.dst.closed {
			it.dst.eof = true
			signal(it.dst.readable)
		}
	case kindReset:
		if ok && !it.dst.closed && !it.dst.reset {
			it.dst.reset = true
			it.dst.stopSending()
			signal(it.dst.readable)
		}
	case kindDatagram:
		n.arriveDatagram(it, ok, reason, now)
	}
}

func (n *Network) arriveMessage(it item, ok bool, reason DropReason, now time.Time) {
	dst := it.dst
	switch {
	case !ok:
		dst.release(len(it.msg))
		n.drop(&it, it.msg, reason, now)
	case dst.closed:
		// The end is gone but its node is up: it was closed, or its
		// node crashed and restarted. Answer with a reset, as TCP does.
		dst.release(len(it.msg))
		n.drop(&it, it.msg, ReasonClosed, now)
		n.sendReset(dst, now)
	default:
		dst.queue.push(it.msg)
		it.link.counts.delivered(len(it.msg))
		n.report(EventDeliver, &it, it.msg, now, 0)
		signal(dst.readable)
	}
}

func (n *Network) arriveDatagram(it item, ok bool, reason DropReason, now time.Time) {
	pc := it.link.to.packet
	switch {
	case !ok:
		n.drop(&it, it.msg, reason, now)
	case pc == nil:
		n.drop(&it, it.msg, ReasonClosed, now) // no socket: UDP drops it
	case pc.queued > 0 && pc.queued+len(it.msg) > n.opts.packetBuffer:
		n.drop(&it, it.msg, ReasonQueueFull, now)
	default:
		pc.queue.push(datagram{from: Addr(it.link.from.name), b: it.msg})
		pc.queued += len(it.msg)
		it.link.counts.delivered(len(it.msg))
		n.report(EventDeliver, &it, it.msg, now, 0)
		signal(pc.readable)
	}
}

// sendEOF sends c's end-of-stream mark to its peer. It is not subject to
// the faults' drops and duplicates, arrives after every message c sent,
// and is lost only if the link is cut. The caller holds n.mu.
func (n *Network) sendEOF(c *conn, now time.Time) {
	it := item{kind: kindEOF, link: c.out, fromInc: c.inc, toInc: c.out.to.incarnation, dst: c.peer}
	if _, ok := n.passable(&it); !ok {
		return
	}
	it.at = now.Add(n.faultsOf(c.out).Delay)
	if c.peer.lastAt.After(it.at) {
		it.at = c.peer.lastAt
	}
	n.schedule(it, now)
}

// sendReset answers a message that reached the dead end c with a reset
// for the end that sent it. The caller holds n.mu.
func (n *Network) sendReset(c *conn, now time.Time) {
	if p := c.peer; p.closed || p.reset {
		return
	}
	n.schedule(item{
		at:      now.Add(n.faultsOf(c.out).Delay),
		kind:    kindReset,
		link:    c.out,
		fromInc: c.local.incarnation,
		toInc:   c.remote.incarnation,
		dst:     c.peer,
	}, now)
}

// signal wakes the receiver waiting on ch, if any; ch has room for one
// wake-up, so signal never blocks and may be called with n.mu held.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// itemHeap is a min-heap of items by (at, order), written out rather than
// through container/heap to avoid boxing every item in an interface.
type itemHeap []item

func (h itemHeap) less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].order < h[j].order
	}
	return h[i].at.Before(h[j].at)
}

func (h *itemHeap) push(it item) {
	*h = append(*h, it)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *itemHeap) pop() item {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = item{} // let the message be collected
	s = s[:last]
	for i := 0; ; {
		smallest, l, r := i, 2*i+1, 2*i+2
		if l < len(s) && s.less(l, smallest) {
			smallest = l
		}
		if r < len(s) && s.less(r, smallest) {
			smallest = r
		}
		if smallest == i {
			break
		}
		s[i], s[smallest] = s[smallest], s[i]
		i = smallest
	}
	*h = s
	return top
}
