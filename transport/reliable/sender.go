package reliable

import "time"

// Retransmission timeout bounds. The timeout follows the measured round-trip
// time (RFC 6298: smoothed RTT plus four times its variation), never below
// minRTO, and starts at initialRTO before the first measurement.
const (
	minRTO     = 2 * time.Millisecond
	initialRTO = 100 * time.Millisecond
)

// sender is the sending half of a connection. It cuts messages into
// numbered segments, keeps each until the peer acknowledges it, and decides
// what goes out next: first the segments found lost, then new ones as far
// as the windows allow.
//
// Losses are found in two ways. First, and usually, a segment is lost when
// the peer acknowledges one that was sent after it: packets overtake each
// other rarely, so a hole behind an acknowledged segment means the packet is
// gone (the idea of RACK, RFC 8985). That is what keeps throughput up under
// steady loss. Second, the retransmission timer, as in TCP: it runs while
// segments are in flight and restarts whenever an acknowledgement brings
// news. If it expires, nothing has been heard for a whole timeout: the
// oldest segments are sent again, and the timeout doubles for next time
// (exponential back-off), up to Config.MaxBackOffInterval, until an
// acknowledgement arrives again.
type sender struct {
	una   uint32           // oldest unacknowledged segment: every one before it is acknowledged
	next  uint32           // the next segment to be sent for the first time
	segs  ring[outSegment] // segment una+i is segs.at(i); those from next on are not sent yet
	lost  ring[uint32]     // segments to send again, in the order found
	nlost int              // segments marked lost and not sent again yet

	// Bytes on the wire (segment headers and data) of the segments in
	// flight and of those marked lost: what congestion control counts.
	flightBytes, lostBytes int

	cc      congestion // how much the network is trusted with (congestion.go)
	oneMore bool       // a timer expired: send one segment whatever cwnd says
	// A probe (after a timeout, or a tail loss probe) that sends a
	// segment again makes its acknowledgement ambiguous: the original may
	// be what arrived. probeSends is the count of sends before the probe
	// and probeSeq the segment. An ACK for a copy sent before the probe
	// shows the flight was arriving, only late (probeLate), and then the
	// probe's acknowledgement is the original's, which judges nothing
	// sent after it. If the timeout's probe is acknowledged first, its
	// verdict (heldSends) waits a round trip and a quarter (until heldAt)
	// for the rest of a late flight to show up; a flight really lost
	// sends nothing in that time, and the verdict stands. (Not for a tail
	// loss probe: it comes often under loss, and there its verdict finds
	// real losses; waiting cost 5-10% of the throughput at 5% loss.)
	probeSends uint64
	probeSeq   uint32
	probeLate  bool
	probeHolds bool      // the probe is a timeout's: hold its verdict
	probeDone  bool      // segment probeSeq has been acknowledged
	heldSends  uint64    // the probe's send, whose verdict waits; 0 if none
	heldAt     time.Time // when heldSends judges
	probeAcked bool      // onAck: segment probeSeq was acknowledged
	oldAcked   bool      // onAck: a copy sent before the last probe was acknowledged
	oldSends   uint64    // onAck: the latest send among those copies
	spurious   bool      // onAck: a copy sent before the last timeout was acknowledged
	// timeoutSends is the count of sends at the first of the last
	// timeouts in a row, until an ACK brings news; 0 if none.
	timeoutSends uint64

	window     int    // our WindowSize: next - una stays below it
	maxUnacked int    // our MaxUnackedMessages: inFlight stays below it
	peerWindow uint32 // segments the peer accepts from una on, as it last said
	inFlight   int    // sent and not acknowledged

	srtt, rttvar time.Duration // smoothed round-trip time and its variation; srtt 0 = no sample yet
	rto          time.Duration // the retransmission timeout, before back-off
	maxRTO       time.Duration // Config.MaxBackOffInterval
	backoff      int           // timeouts in a row, without an acknowledgement between them
	timerAt      time.Time     // when the retransmission timer expires; zero when stopped
	lastTimeout  time.Time     // when it last expired: what was sent before gives no RTT sample
	persistAt    time.Time     // when to probe a peer whose window is closed; zero if not waiting
	probeAt      time.Time     // when to send a tail loss probe; zero if none is due
	probe        bool          // send one segment beyond the peer's window

	sends     uint64    // transmissions so far, to tell which was sent first
	rackSends uint64    // the sends count of the latest-sent segment known to have arrived
	rackAt    time.Time // when a segment sent before it counts as lost; zero if none waits
	highAcked uint32    // one past the highest segment acknowledged

	stats *Stats
}

// outSegment is a segment waiting to be sent or acknowledged.
type outSegment struct {
	data []byte
	left uint32 // segments of the same message after this one
	fin  bool

	acked   bool      // selectively acknowledged (it may still lie above una)
	lost    bool      // queued in sender.lost
	xmits   int       // times sent
	sentAt  time.Time // last sent
	sendNum uint64    // sender.sends when last sent
}

func newSender(isn uint32, s settings, packetSize int, peerWindow uint32, stats *Stats) sender {
	// Congestion control counts in datagrams' worth of bytes: a datagram is
	// what queues hold and drop, be it 1400 bytes or the 64 KB of loopback.
	mss := packetSize - ackBlockLen
	return sender{
		cc:  newCongestion(s.fixedWindow, s.window, mss),
		una: isn, next: isn, highAcked: isn,
		window: s.window, maxUnacked: s.maxUnacked, peerWindow: peerWindow,
		rto: min(initialRTO, s.maxBackOff), maxRTO: s.maxBackOff,
		stats: stats,
	}
}

// queue cuts msg into segments of at most size bytes and queues them. The
// sender keeps msg: the caller must not change it afterwards.
func (s *sender) queue(msg []byte, size int) {
	n := segmentsFor(len(msg), size)
	for i := range n {
		end := min(len(msg), (i+1)*size)
		s.segs.push(outSegment{data: msg[i*size : end : end], left: uint32(n - 1 - i)})
	}
}

// segmentsFor is how many segments of at most size bytes a message of n
// bytes takes. An empty message still takes one.
func segmentsFor(n, size int) int {
	return max(1, (n+size-1)/size)
}

// queueFin queues the segment that ends the stream.
func (s *sender) queueFin() { s.segs.push(outSegment{fin: true}) }

// unsent is how many queued segments have never been sent.
func (s *sender) unsent() int { return s.segs.len() - int(s.next-s.una) }

// allAcked reports whether every queued segment has been acknowledged.
func (s *sender) allAcked() bool { return s.segs.len() == 0 }

// dataAcked reports whether every queued segment but a final FIN has been
// acknowledged.
func (s *sender) dataAcked() bool {
	return s.segs.len() == 0 || s.segs.len() == 1 && s.segs.at(0).fin
}

// peek returns the segment to send next and its sequence number: a lost one
// if any, else a new one if the windows allow it. It returns nil if nothing
// may be sent now. Calling it again returns the same segment until
// markSent.
func (s *sender) peek() (*outSegment, uint32) {
	for s.lost.len() > 0 {
		seq := *s.lost.at(0)
		if seg := s.inFlightSegment(seq); seg != nil && seg.lost {
			if !s.oneMore && !s.cc.allows(s.pipe()) {
				return nil, 0
			}
			return seg, seq
		}
		s.lost.pop() // stale: acknowledged since it was found lost
	}
	switch {
	case s.unsent() == 0,
		int(s.next-s.una) >= s.window, // the sliding window is full
		s.inFlight >= s.maxUnacked:    // too many unacknowledged
		return nil, 0
	case s.probe: // one segment beyond the peer's closed window
	case int(s.next-s.una) >= int(s.peerWindow), // the peer has no room
		!s.oneMore && !s.cc.allows(s.pipe()): // the network has none
		return nil, 0
	}
	return s.segs.at(int(s.next - s.una)), s.next
}

// markSent records that the segment peek returned has been put in a packet.
func (s *sender) markSent(seg *outSegment, seq uint32, now time.Time) {
	probing := s.oneMore
	if seq == s.next {
		s.next++
		s.inFlight++
		s.flightBytes += wireSize(seg)
		s.probe = false
	} else { // a retransmission of a segment found lost
		s.lost.pop()
		seg.lost = false
		s.nlost--
		s.lostBytes -= wireSize(seg)
		s.stats.Retransmissions++
	}
	s.sends++
	seg.xmits++
	seg.sendNum = s.sends
	seg.sentAt = now
	if s.timerAt.IsZero() {
		s.timerAt = now.Add(s.timeout())
	}
	if !probing {
		s.armTailProbe(now)
	}
	s.oneMore = false
	s.stats.SegmentsSent++
}

// pipe is how many bytes are in the network, as far as we know: of the
// segments sent, not acknowledged, and not known to be lost (RFC 6675's
// "pipe"). cwnd bounds it.
func (s *sender) pipe() int { return s.flightBytes - s.lostBytes }

// wireSize is what seg takes in a packet.
func wireSize(seg *outSegment) int { return segmentHeaderLen + len(seg.data) }

// inFlightSegment returns segment seq if it has been sent and not
// cumulatively acknowledged, else nil.
func (s *sender) inFlightSegment(seq uint32) *outSegment {
	if seqLess(seq, s.una) || !seqLess(seq, s.next) {
		return nil
	}
	return s.segs.at(int(seq - s.una))
}

// onAck handles an acknowledgement: everything before ack has arrived, and
// so have the ranges; the peer accepts window segments from ack on.
func (s *sender) onAck(ack, window uint32, ranges []seqRange, now time.Time) {
	if seqLess(s.next, ack) {
		return // acknowledges what was never sent: not for this connection
	}
	before, bytesBefore, rackBefore := s.inFlight, s.flightBytes, s.rackSends
	s.oldAcked, s.oldSends, s.spurious, s.probeAcked = false, 0, false, false
	var newest time.Time // the latest send among the clean samples this ACK gives
	if seqLessEq(s.una, ack) {
		for s.una != ack {
			seg := s.segs.at(0)
			newest = later(newest, s.acknowledge(seg, s.una))
			s.segs.pop()
			s.una++
		}
		s.peerWindow = window // an older ACK's window is stale; keep the newest
	}
	for _, r := range ranges {
		for seq := r.start; seqLess(seq, r.end); seq++ {
			if seg := s.inFlightSegment(seq); seg != nil {
				newest = later(newest, s.acknowledge(seg, seq))
			}
		}
	}
	if s.oldAcked {
		// The last probe was not needed: copies sent before it arrived.
		// Its acknowledgement then says nothing of what was lost (it may
		// be the original's), so the segments sent between the originals
		// and the probe are not judged by it.
		s.rackSends = max(rackBefore, s.oldSends)
	}
	if s.probeAcked {
		s.probeDone = true
		if s.heldSends != 0 {
			s.heldAt = now.Add(s.srtt + s.srtt/4)
		}
	}
	if s.probeDone && s.heldSends == 0 {
		s.clearProbe() // the probe is judged
	}
	if !newest.IsZero() {
		s.sampleRTT(now.Sub(newest))
		s.cc.onRTT(now.Sub(newest), now)
	}
	s.cc.onAck(bytesBefore-s.flightBytes, s.una, s.spurious, now, s.srtt)
	if news := s.inFlight < before; news {
		if s.spurious {
			s.stats.SpuriousTimeouts++
		}
		s.timeoutSends = 0 // judged
		// The peer is alive and the path works: restart the timer from
		// now, with no back-off.
		s.backoff = 0
		s.timerAt = time.Time{}
		if s.inFlight > 0 {
			s.timerAt = now.Add(s.timeout())
		}
		s.armTailProbe(now)
	}
	s.detectLoss(now)
}

// acknowledge marks seg as arrived, learning from it which transmissions
// are certainly gone. It returns when seg was sent, if its acknowledgement
// times a round trip cleanly; else zero.
//
// Only one ACK's newest clean sample is used (see onAck): the segments it
// also acknowledges that were sent earlier waited for it, and would count
// the time between ACKs, or the wait for an ACK that was lost, as round
// trip. Clean means: sent once, since for one sent twice we cannot tell
// which copy arrived (Karn's rule); and sent after the last retransmission
// timeout, since a flight sent before it, whose acknowledgements were all
// lost, is acknowledged only in answer to the timeout's probe, and would
// count the whole timeout as round trip. That round trip would lengthen
// the next timeout, in a loop, up to MaxBackOffInterval.
func (s *sender) acknowledge(seg *outSegment, seq uint32) time.Time {
	if seg.acked {
		return time.Time{}
	}
	size := wireSize(seg)
	if seg.lost {
		s.nlost-- // it was queued to be sent again: it need not be
		s.lostBytes -= size
	}
	seg.acked, seg.lost = true, false
	s.inFlight--
	s.flightBytes -= size
	rack := true // whether seg tells which segments sent before it are lost
	if t := s.probeSends; t != 0 && seg.sendNum <= t {
		s.oldAcked = true // this copy left before the probe: it was not lost
		s.oldSends = max(s.oldSends, seg.sendNum)
		s.probeLate = true
		s.heldSends = 0 // so the probe's acknowledgement was the original's
	}
	if s.probeSends != 0 && seq == s.probeSeq {
		rack = !s.probeLate // if late, this is the original's ACK
		if rack && s.probeHolds {
			rack, s.heldSends = false, seg.sendNum // judge later (onAck)
		}
		s.probeAcked = true
	}
	if t := s.timeoutSends; t != 0 && seg.sendNum <= t {
		s.spurious = true // nor before the timeout: the timeout was spurious
	}
	var sent time.Time
	if seg.xmits == 1 && !seg.sentAt.Before(s.lastTimeout) {
		sent = seg.sentAt
	}
	if rack {
		s.rackSends = max(s.rackSends, seg.sendNum)
	}
	if !seqLess(seq, s.highAcked) {
		s.highAcked = seq + 1
	}
	seg.data = nil // let the message go once all its segments have arrived
	return sent
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
