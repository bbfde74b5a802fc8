package reliable

import (
	"fmt"
	"io"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// session is one end of one connection: the whole protocol, as a state
// machine. It has no goroutine, no socket and no clock. Its driver (Conn)
// feeds it what happens, each time with the current time:
//
//	step(p, now)    a packet arrived from the peer
//	tick(now)       time passed (call it at deadline() or later)
//	write(msg)      the application sends a message
//	read()          the application asks for the next message
//	close(now)      the application closes the connection
//
// and after each of them asks flush(now) for the packets to send. So a test
// can play both ends of a connection by hand, packet by packet, and watch
// what each does when a packet is lost, repeated or late.
//
// A session is not safe for concurrent use; its driver serializes calls.
type session struct {
	cfg   settings
	state state
	err   error // why the session failed, in stateFailed

	dialer bool
	connID uint64 // the listener's name for the connection; 0 until ACCEPT
	nonce  uint64 // the dialer's random number, naming this attempt in CONNECT and ACCEPT
	isn    uint32 // our initial sequence number

	packetSize     int // the largest packet we send: the smaller of both ends' limits
	segSize        int // the most data bytes in one segment
	peerMaxMessage int

	snd sender
	rcv receiver

	// The epoch timer: liveness and heartbeats.
	epochEnd  time.Time // when the current epoch ends
	silent    int       // epochs in a row in which nothing was heard
	heard     bool      // a packet arrived during this epoch
	spoke     bool      // a packet was sent during this epoch
	heartbeat bool      // send an ACK even if nothing new arrived

	// The handshake and the close.
	connectDue  bool          // dialer: send CONNECT now
	connectAt   time.Time     // dialer: when to send CONNECT again
	connectWait time.Duration // dialer: the wait after the next CONNECT
	connects    int           // dialer: CONNECTs sent
	firstSent   time.Time     // dialer: when the first CONNECT went
	acceptDue   bool          // listener side: send ACCEPT (again)
	resetDue    bool          // send RESET: we gave the connection up
	lingerEnd   time.Time     // closing: stop waiting for acknowledgements
	peerClosed  bool          // the peer's FIN has arrived
	confirmed   bool          // listener side: the dialer has answered our ACCEPT

	out     [][]byte // the packets flush built
	bufs    [][]byte // memory for out, reused from flush to flush
	scratch packet

	stats Stats
}

// state is where a session is in its life.
type state int

const (
	stateConnecting state = iota // dialer: CONNECT sent, no ACCEPT yet
	stateOpen                    // messages flow both ways
	stateClosing                 // Close called: sending what is queued, then FIN
	stateClosed                  // done, in order
	stateFailed                  // done: peer lost or reset, or aborted (see err)
)

// maxBurst bounds the packets one flush builds, so that a session does not
// hold a window's worth of packet buffers; the driver calls flush again
// while pending says there is more.
const maxBurst = 64

// newDialSession starts the dialer's end: it will send CONNECT at once.
func newDialSession(cfg settings, nonce uint64, isn uint32, now time.Time) *session {
	s := &session{
		cfg: cfg, state: stateConnecting, dialer: true,
		nonce: nonce, isn: isn, packetSize: cfg.packetSize,
		connectDue: true, connectWait: min(initialRTO, cfg.maxBackOff),
	}
	s.epochEnd = now.Add(cfg.epochLength)
	return s
}

// newAcceptSession starts the listener's end of the connection that
// CONNECT packet p asks for, naming it connID. It will send ACCEPT at once.
func newAcceptSession(cfg settings, connID uint64, isn uint32, p *packet, now time.Time) *session {
	s := &session{
		cfg: cfg, state: stateOpen, connID: connID,
		nonce: p.nonce, isn: isn, acceptDue: true,
	}
	s.epochEnd = now.Add(cfg.epochLength)
	s.establish(p)
	s.heard = true
	return s
}

// establish sets the connection up with what the peer's handshake packet
// (CONNECT or ACCEPT) announced.
func (s *session) establish(p *packet) {
	s.packetSize = max(MinPacketSize, min(s.cfg.packetSize, p.packetSize))
	s.segSize = min(SegmentSize, s.packetSize-ackBlockLen-segmentHeaderLen)
	s.peerMaxMessage = p.maxMessage
	s.snd = newSender(s.isn, s.cfg, s.packetSize, p.window, &s.stats)
	s.rcv = newReceiver(p.isn, s.cfg, &s.stats)
}

// step handles a packet from the peer, decoded and checked.
func (s *session) step(p *packet, now time.Time) {
	if s.terminal() {
		return
	}
	switch p.typ {
	case typeConnect:
		if s.dialer || p.nonce != s.nonce {
			return
		}
		s.acceptDue = true // our ACCEPT was lost, or is late
	case typeAccept:
		if s.state != stateConnecting || p.nonce != s.nonce {
			return // a late copy
		}
		s.state, s.connID = stateOpen, p.connID
		s.establish(p)
		if s.connects == 1 {
			s.snd.sampleRTT(now.Sub(s.firstSent))
		}
		// Answer at once, so that the listener counts the connection as
		// established, not half-open (see MaxHalfOpen).
		s.rcv.ackPending = true
	case typeRefuse:
		if s.state != stateConnecting || p.nonce != s.nonce {
			return
		}
		s.fail(ErrRefused)
		return
	case typeReset:
		if s.state == stateConnecting || p.connID != s.connID {
			return
		}
		s.fail(ErrPeerReset)
		return
	case typeData, typeAck:
		if s.state == stateConnecting || p.connID != s.connID {
			return
		}
		s.confirmed = true
		s.snd.onAck(p.ack, p.window, p.ranges, now)
		for _, seg := range p.segs {
			s.rcv.onSegment(seg)
		}
		if s.rcv.finished {
			s.peerClosed = true
		}
		if s.rcv.err != nil {
			s.fail(s.rcv.err)
			return
		}
	default:
		return
	}
	s.stats.PacketsReceived++
	s.heard = true
	s.checkClosed(now)
}

// tick advances the timers: handshake retries, retransmission timeouts,
// the linger limit and the epoch.
func (s *session) tick(now time.Time) {
	if s.terminal() {
		return
	}
	if s.state == stateConnecting && !now.Before(s.connectAt) {
		s.connectDue = true
	}
	s.checkClosed(now)
	if !now.Before(s.epochEnd) {
		s.endEpoch(now)
	}
	if s.state == stateOpen || s.state == stateClosing {
		s.snd.onTick(now)
	}
}

// endEpoch closes the current epoch: a peer silent for EpochLimit epochs
// in a row is lost, and a session that said nothing in this epoch sends a
// heartbeat, so that its peer does not think it lost.
func (s *session) endEpoch(now time.Time) {
	if s.heard {
		s.silent = 0
	} else {
		s.silent++
	}
	if s.silent >= s.cfg.epochLimit || s.halfOpen() && s.silent >= halfOpenEpochs {
		s.fail(ErrPeerLost)
		return
	}
	if !s.spoke && s.state != stateConnecting {
		s.heartbeat = true
	}
	s.heard, s.spoke = false, false
	s.epochEnd = s.epochEnd.Add(s.cfg.epochLength)
	if !s.epochEnd.After(now) { // the driver was late: start afresh
		s.epochEnd = now.Add(s.cfg.epochLength)
	}
}

// halfOpenEpochs is how many silent epochs in a row a half-open connection
// lasts (see MaxHalfOpen): fewer than EpochLimit, since its dialer, if it
// exists, acknowledges the ACCEPT at once and resends CONNECT until it is
// answered.
const halfOpenEpochs = 2

// halfOpen reports whether this is the listener's end of a connection
// whose dialer has not been heard from since its CONNECT.
func (s *session) halfOpen() bool { return !s.dialer && !s.confirmed }

// deadline is when tick should next be called; zero if never.
func (s *session) deadline() time.Time {
	if s.terminal() {
		return time.Time{}
	}
	d := s.epochEnd
	earlier := func(t time.Time) {
		if !t.IsZero() && t.Before(d) {
			d = t
		}
	}
	switch s.state {
	case stateConnecting:
		earlier(s.connectAt)
	case stateClosing:
		earlier(s.lingerEnd)
	}
	earlier(s.snd.deadline())
	return d
}

// writeErr says why a message of n bytes cannot be sent, or nil if it can
// (when there is room: see canWrite).
func (s *session) writeErr(n int) error {
	switch s.state {
	case stateConnecting, stateClosing, stateClosed:
		return transport.ErrClosed
	case stateFailed:
		return s.err
	}
	if s.peerClosed {
		return ErrPeerClosed
	}
	if limit := min(s.cfg.maxMessage, s.peerMaxMessage); n > limit {
		return fmt.Errorf("%w: %d bytes, limit is %d", transport.ErrMessageTooLarge, n, limit)
	}
	return nil
}

// canWrite reports whether a message of n bytes fits in the send queue:
// fewer than WindowSize segments wait unsent, or none does (so a message
// longer than the window still goes, alone).
func (s *session) canWrite(n int) bool {
	u := s.snd.unsent()
	return u == 0 || u+segmentsFor(n, s.segSize) <= s.cfg.window
}

// write queues msg, which writeErr allowed. The session keeps msg.
func (s *session) write(msg []byte) {
	s.snd.queue(msg, s.segSize)
	s.stats.MessagesSent++
}

// read returns the next message in order, or io.EOF once the peer's
// messages have all been read and it has closed, or the error that ended
// the session; nil and nil if nothing is there yet.
func (s *session) read() ([]byte, error) {
	if s.state == stateConnecting {
		return nil, nil
	}
	if msg, ok := s.rcv.pop(); ok {
		return msg, nil
	}
	switch {
	case s.rcv.finished:
		return nil, io.EOF
	case s.state == stateFailed:
		return nil, s.err
	}
	return nil, nil
}

// readable reports whether read has something to return.
func (s *session) readable() bool {
	return s.rcv.ready.len() > 0 || s.rcv.finished || s.state == stateFailed
}

// close starts an orderly close: what is queued is sent, then a FIN, and
// the session is done when the peer has acknowledged it all, or has closed
// too, or Linger has passed.
func (s *session) close(now time.Time) {
	switch s.state {
	case stateConnecting:
		s.state = stateClosed
	case stateOpen:
		s.rcv.dropReady()
		if s.cfg.linger < 0 { // discard what is unacknowledged
			s.state, s.resetDue = stateClosed, true
			return
		}
		s.state = stateClosing
		s.snd.queueFin()
		s.lingerEnd = now.Add(s.cfg.linger)
		s.checkClosed(now)
	}
}

// checkClosed ends a closing session once there is nothing left to wait
// for. If Linger ran out first, a RESET tells the peer that what it has not
// received will not come, so that it does not wait for it in turn.
func (s *session) checkClosed(now time.Time) {
	if s.state != stateClosing {
		return
	}
	switch {
	case s.snd.allAcked() || s.peerClosed:
		s.state = stateClosed
	case !now.Before(s.lingerEnd):
		s.state, s.resetDue = stateClosed, true
	}
}

// abort gives the connection up at once, telling the peer with a RESET.
func (s *session) abort() {
	if s.terminal() {
		return
	}
	s.fail(transport.ErrClosed)
	s.resetDue = s.connID != 0
}

func (s *session) fail(err error) {
	s.state, s.err = stateFailed, err
}

func (s *session) terminal() bool { return s.state == stateClosed || s.state == stateFailed }

// closeErr is what Close reports: nil, unless the connection failed before
// the peer acknowledged every message sent.
func (s *session) closeErr() error {
	if s.state == stateFailed && s.err != transport.ErrClosed && !s.snd.dataAcked() && !s.peerClosed {
		return s.err
	}
	return nil
}

// pending reports whether flush has packets to build right now.
func (s *session) pending() bool {
	switch s.state {
	case stateConnecting:
		return s.connectDue
	case stateFailed:
		return s.resetDue
	case stateClosed:
		return s.resetDue || s.rcv.ackPending
	}
	if s.acceptDue || s.resetDue || s.rcv.ackPending || s.heartbeat {
		return true
	}
	seg, _ := s.snd.peek()
	return seg != nil
}
