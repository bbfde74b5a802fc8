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
	una  uint32           // oldest unacknowledged segment: every one before it is acknowledged
	next uint32           // the next segment to be sent for the first time
	segs ring[outSegment] // segment una+i is segs.at(i); those from next on are not sent yet
	lost ring[uint32]     // segments to send again, in the order found

	probeSize  int    // segment bytes a packet holds: what a timeout sends again
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
	return sender{
		probeSize: packetSize - ackBlockLen,
		una:       isn, next: isn, highAcked: isn,
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
			return seg, seq
		}
		s.lost.pop() // stale: acknowledged since it was found lost
	}
	if s.unsent() == 0 ||
		int(s.next-s.una) >= s.window || // the sliding window is full
		s.inFlight >= s.maxUnacked || // too many unacknowledged
		int(s.next-s.una) >= int(s.peerWindow) && !s.probe { // the peer has no room
		return nil, 0
	}
	return s.segs.at(int(s.next - s.una)), s.next
}

// markSent records that the segment peek returned has been put in a packet.
func (s *sender) markSent(seg *outSegment, seq uint32, now time.Time) {
	if seq == s.next {
		s.next++
		s.inFlight++
		s.probe = false
	} else { // a retransmission of a segment found lost
		s.lost.pop()
		seg.lost = false
		s.stats.Retransmissions++
	}
	s.sends++
	seg.xmits++
	seg.sendNum = s.sends
	seg.sentAt = now
	if s.timerAt.IsZero() {
		s.timerAt = now.Add(s.timeout())
	}
	s.stats.SegmentsSent++
}

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
	before := s.inFlight
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
	if !newest.IsZero() {
		s.sampleRTT(now.Sub(newest))
	}
	if news := s.inFlight < before; news {
		// The peer is alive and the path works: restart the timer from
		// now, with no back-off.
		s.backoff = 0
		s.timerAt = time.Time{}
		if s.inFlight > 0 {
			s.timerAt = now.Add(s.timeout())
		}
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
	seg.acked, seg.lost = true, false // if it was queued to be sent again, it need not be
	s.inFlight--
	var sent time.Time
	if seg.xmits == 1 && !seg.sentAt.Before(s.lastTimeout) {
		sent = seg.sentAt
	}
	s.rackSends = max(s.rackSends, seg.sendNum)
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

// detectLoss marks lost every unacknowledged segment sent before the
// latest-sent segment known to have arrived, once it has had a round trip
// and a quarter more to be acknowledged: the quarter is the slack for
// packets merely overtaken (the reordering window). A segment not yet that
// old is checked again when it is (rackAt).
func (s *sender) detectLoss(now time.Time) {
	s.rackAt = time.Time{}
	wait := s.srtt + s.srtt/4
	for seq := s.una; seqLess(seq, s.highAcked) && seqLess(seq, s.next); seq++ {
		seg := s.segs.at(int(seq - s.una))
		if seg.acked || seg.lost || seg.sendNum >= s.rackSends {
			continue
		}
		if lostAt := seg.sentAt.Add(wait); now.Before(lostAt) {
			if s.rackAt.IsZero() || lostAt.Before(s.rackAt) {
				s.rackAt = lostAt
			}
			continue
		}
		s.markLost(seg, seq)
		s.stats.FastRetransmits++
	}
}

func (s *sender) markLost(seg *outSegment, seq uint32) {
	seg.lost = true
	s.lost.push(seq)
}

// sampleRTT updates the round-trip estimate with one measurement, as RFC
// 6298 says: srtt moves an eighth of the way to the sample, rttvar a
// quarter of the way to the sample's distance from srtt.
func (s *sender) sampleRTT(rtt time.Duration) {
	if s.srtt == 0 {
		s.srtt, s.rttvar = rtt, rtt/2
	} else {
		diff := s.srtt - rtt
		if diff < 0 {
			diff = -diff
		}
		s.rttvar += (diff - s.rttvar) / 4
		s.srtt += (rtt - s.srtt) / 8
	}
	s.rto = min(max(s.srtt+4*s.rttvar, minRTO), s.maxRTO)
	s.stats.SmoothedRTT = s.srtt
}

// timeout is the retransmission timeout with back-off: rto doubled for each
// timeout in a row, at most maxRTO.
func (s *sender) timeout() time.Duration {
	d := s.rto
	for range s.backoff {
		if d >= s.maxRTO {
			break
		}
		d *= 2
	}
	return min(d, s.maxRTO)
}

// onTick handles the retransmission timer. When it expires, the oldest
// segments in flight are sent again, as many as fill one packet, and the
// timer starts again with twice the timeout. One packet, not the whole
// flight: it works as a probe. If the path is down, sending more would be
// wasted; if it works, the acknowledgement of the probe tells which of the
// others arrived, and the rule of "lost if sent before one that arrived"
// finds the rest at once. (A timeout on a busy machine is often spurious
// too: an acknowledgement merely late. Then the probe costs one packet,
// not a window.)
func (s *sender) onTick(now time.Time) {
	if !s.rackAt.IsZero() && !now.Before(s.rackAt) {
		s.detectLoss(now)
	}
	s.checkWindowProbe(now)
	if s.timerAt.IsZero() || now.Before(s.timerAt) {
		return
	}
	s.stats.Timeouts++
	s.lastTimeout = now
	room := s.probeSize
	for i := 0; i < int(s.next-s.una) && room > 0; i++ {
		if seg := s.segs.at(i); !seg.acked {
			if !seg.lost {
				s.markLost(seg, s.una+uint32(i))
			}
			room -= segmentHeaderLen + len(seg.data)
		}
	}
	s.backoff++
	s.timerAt = now.Add(s.timeout())
}

// checkWindowProbe handles a peer whose window is closed: it has no room
// for what we have to send, and nothing is in flight. It opens the window
// again with an ACK when its reader catches up; if that ACK is lost, we
// would wait for its next heartbeat, an epoch away. So, like TCP's persist
// timer, after a retransmission timeout we send one segment beyond the
// window: the peer keeps it if it can, and answers in any case with its
// window as it is now.
func (s *sender) checkWindowProbe(now time.Time) {
	closed := s.unsent() > 0 && s.inFlight == 0 && int(s.next-s.una) >= int(s.peerWindow)
	switch {
	case !closed:
		s.persistAt = time.Time{}
	case s.persistAt.IsZero():
		s.persistAt = now.Add(s.timeout())
	case !now.Before(s.persistAt):
		s.probe, s.persistAt = true, time.Time{}
		s.backoff++
	}
}

// deadline is when onTick has work to do next; zero if never.
func (s *sender) deadline() time.Time {
	d := s.timerAt
	for _, t := range []time.Time{s.rackAt, s.persistAt} {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	return d
}
