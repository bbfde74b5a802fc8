package netsim

import "time"

// Hold makes the network hold deliveries, as a pause button does: from now
// on, every copy of a message that reaches the end of its link waits there,
// in the order it arrived, until Release lets some through or Resume lets
// them all through and ends the hold. Everything else goes on: senders
// send (and fill the peer's window, so a conn's Send may block), delays
// pass, timers fire, and a partition or crash decided while a copy waits
// catches it when it is released, since a copy's fate is decided when it
// lands. It is what a live demo needs to pause the network, step it one
// message at a time, or run it in slow motion (Release at a steady pace).
//
// Holding a network that holds already does nothing.
func (n *Network) Hold() {
	n.mu.Lock()
	if !n.holding && !n.closed {
		n.holding = true
		n.reportChange(Event{Kind: EventHold})
	}
	n.mu.Unlock()
	n.flush()
}

// Release lets up to k held copies of messages (conn messages or
// datagrams) land, the longest held first, and returns how many it let
// through: fewer than k if fewer were held, and 0 when the network does
// not hold. Each lands as it would have on arrival: delivered, or dropped
// if a partition or crash now stands in its way. (Ends of stream and
// resets held between them go through too, in their order: they are not
// counted.) A k below 1 releases nothing.
func (n *Network) Release(k int) int {
	n.mu.Lock()
	released := 0
	now := time.Now()
	for released < k && n.held.len() > 0 {
		it := n.held.pop()
		if isData(it) {
			released++
		}
		n.land(it, now)
	}
	for n.held.len() > 0 && !isData(n.held.peek()) {
		n.land(n.held.pop(), now) // an end of stream now at the front need not wait
	}
	n.mu.Unlock()
	n.flush()
	return released
}

// Resume ends the hold: every held copy lands at once, in the order it
// arrived, and later copies land as they arrive. Resuming a network that
// does not hold does nothing.
func (n *Network) Resume() {
	n.mu.Lock()
	if n.holding {
		n.holding = false
		now := time.Now()
		for n.held.len() > 0 {
			n.land(n.held.pop(), now)
		}
		n.reportChange(Event{Kind: EventResume})
	}
	n.mu.Unlock()
	n.flush()
}

// isData reports whether it carries a message or datagram, rather than a
// conn's end of stream or reset.
func isData(it item) bool { return it.kind == kindMessage || it.kind == kindDatagram }
