package reliable

import "time"

// A connection that closed after its peer's FIN has one duty left: its
// last acknowledgement may have been lost. The peer, whose Close waits for
// the acknowledgement of its FIN, then sends the FIN again, to a
// connection that is gone. Answered with RESET, it would fail, and its
// Close would report ErrPeerReset although everything arrived. This is the
// "last ACK" problem that TCP's TIME-WAIT state solves, and it is solved
// the same way: the socket keeps a small record of the closed connection
// for a while, and answers the peer's DATA with the final acknowledgement.
//
// The record lasts timeWaitFor, the peer-lost bound (see settings.
// lostAfter): a peer that hears nothing from us declares us lost by then,
// and its Close has given up. There are no timers: records expire in the
// order they were made (all of a socket's connections share its settings),
// and expired ones are dropped whenever a record is added or a packet for
// an unknown connection arrives. A socket holds at most maxTimeWait of
// them, dropping the oldest first, and they go with the socket when it
// closes. (A dialer's socket closes with its one connection, so it keeps
// none: its peer's FIN, sent again, finds no socket, is not answered at
// all, and the peer's Close returns nil when its Linger runs out.)

// maxTimeWait bounds the records of closed connections one socket keeps:
// about 100 bytes each. A server closing more than maxTimeWait connections
// in a peer-lost bound (744 a second with the defaults) drops records
// early; a peer whose last acknowledgement was lost may then be answered
// with RESET, as if there were no records.
const maxTimeWait = 4096

// timeWait is what a socket remembers of a connection closed after its
// peer's FIN.
type timeWait struct {
	id    uint64
	peer  address   // only the peer is answered
	ack   []byte    // the final acknowledgement, encoded: everything up to the peer's FIN
	until time.Time // when the record expires
}

// finalAck returns the packet that acknowledges everything the peer sent,
// up to its FIN, if the session has closed after the peer's FIN; else
// nil, and the socket keeps no record of it. (A failed session was reset,
// lost or aborted; one closed before the peer's FIN has had the
// acknowledgement of its own FIN, so the peer has it too, and has nothing
// to wait for from us.)
func (s *session) finalAck() []byte {
	if s.state != stateClosed || !s.peerClosed || s.connID == 0 {
		return nil
	}
	// Window 0: nothing more is accepted. The peer has nothing more to
	// send anyway: its FIN was the last of it.
	return appendPacket(nil, &packet{typ: typeAck, connID: s.connID, ack: s.rcv.next})
}

// timeWaitFor is how long the socket keeps a closed connection's record.
func (m *socket) timeWaitFor() time.Duration { return m.cfg.lostAfter() }

// rememberClosed keeps a record of connection id, closed after its peer's
// FIN, so that the peer's DATA is answered with ack. The caller holds m.mu.
func (m *socket) rememberClosed(id uint64, peer address, ack []byte, now time.Time) {
	m.expireClosed(now)
	if m.closed[id] != nil {
		return // cannot happen: IDs are not reused while a record lasts
	}
	if m.closedOrder.len() >= maxTimeWait {
		m.dropOldestClosed()
	}
	tw := &timeWait{id: id, peer: peer, ack: ack, until: now.Add(m.timeWaitFor())}
	m.closed[id] = tw
	m.closedOrder.push(tw)
}

// closedRecord returns the live record of connection id, if any. The
// caller holds m.mu.
func (m *socket) closedRecord(id uint64, now time.Time) *timeWait {
	m.expireClosed(now)
	return m.closed[id]
}

// expireClosed drops the records whose time is up. The caller holds m.mu.
func (m *socket) expireClosed(now time.Time) {
	for m.closedOrder.len() > 0 && !now.Before((*m.closedOrder.at(0)).until) {
		m.dropOldestClosed()
	}
}

func (m *socket) dropOldestClosed() {
	tw := m.closedOrder.pop()
	if m.closed[tw.id] == tw {
		delete(m.closed, tw.id)
	}
}

// sameAddress reports whether a and b name the same peer.
func sameAddress(a, b address) bool {
	if a.ap.IsValid() && b.ap.IsValid() {
		return a.ap == b.ap
	}
	return a.String() == b.String()
}
