package reliable

import "time"

// The sender's clocks: the round-trip estimate, the retransmission timer
// with its back-off, and the probe of a closed window.

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
// segment in flight is sent again, whatever the congestion window says,
// and the timer starts again with twice the timeout. One segment, not the
// whole flight: it works as a probe. If the path is down, sending more
// would be wasted; if it works, the acknowledgement of the probe tells
// which of the others arrived, and the rule of "lost if sent before one
// that arrived" finds the rest, a round trip and a quarter later (see
// sender.probeSends). (A timeout on a busy machine is often spurious too:
// an acknowledgement merely late. Then the probe costs one segment, not a
// window, and congestion control undoes its cut.)
func (s *sender) onTick(now time.Time) {
	if !s.rackAt.IsZero() && !now.Before(s.rackAt) {
		s.detectLoss(now)
	}
	s.checkWindowProbe(now)
	s.checkTailProbe(now)
	if s.timerAt.IsZero() || now.Before(s.timerAt) {
		return
	}
	s.stats.Timeouts++
	s.lastTimeout = now
	if s.backoff == 0 {
		s.cc.onTimeout(s.sends)
		s.timeoutSends = s.sends
	}
	for i := 0; i < int(s.next-s.una); i++ {
		if seg := s.segs.at(i); !seg.acked {
			if !seg.lost {
				s.markLost(seg, s.una+uint32(i))
			}
			s.setProbe(s.una+uint32(i), true)
			break
		}
	}
	s.oneMore = true
	s.backoff++
	s.timerAt = now.Add(s.timeout())
}

// armTailProbe sets the tail loss probe (TLP, RFC 8985) two round trips
// from now, if segments are in flight and that is before the
// retransmission timeout; else it clears it.
//
// Losses are found by later segments' acknowledgements; the last
// segments of a flight have none after them, and their loss would wait
// for the retransmission timeout, which is at least minRTO and often many
// round trips. Congestion control makes flights short, so this happens
// often. When nothing is acknowledged for two round trips, the probe sends
// one segment, whatever cwnd says: a new one if there is one (its
// acknowledgement then shows which segments before it are missing), or
// else the newest in flight again.
func (s *sender) armTailProbe(now time.Time) {
	s.probeAt = time.Time{}
	if s.srtt == 0 || s.inFlight == 0 {
		return
	}
	if at := now.Add(max(2*s.srtt, minPTO)); at.Before(s.timerAt) {
		s.probeAt = at
	}
}

// minPTO is the shortest wait for a tail loss probe.
const minPTO = 100 * time.Microsecond

// checkTailProbe sends the tail loss probe when it is due.
func (s *sender) checkTailProbe(now time.Time) {
	if s.probeAt.IsZero() || now.Before(s.probeAt) {
		return
	}
	s.probeAt = time.Time{}
	s.stats.TailProbes++
	s.oneMore = true
	if s.unsent() > 0 && int(s.next-s.una) < s.window && int(s.next-s.una) < int(s.peerWindow) {
		return // peek gives the next new segment
	}
	for i := int(s.next-s.una) - 1; i >= 0; i-- {
		if seg := s.segs.at(i); !seg.acked {
			if !seg.lost {
				s.markLost(seg, s.una+uint32(i))
			}
			s.setProbe(s.una+uint32(i), false)
			return
		}
	}
	s.oneMore = false
}

// setProbe records that segment seq goes again as a probe, after every
// send so far: its acknowledgement may be the original's (see probeSends).
// holds says whether that acknowledgement's verdict waits (a timeout's
// probe). A verdict still held from an earlier probe is dropped: this one
// asks the question again.
func (s *sender) setProbe(seq uint32, holds bool) {
	s.clearProbe()
	s.probeSends, s.probeSeq, s.probeHolds = s.sends, seq, holds
}

// clearProbe forgets the last probe: it has been judged.
func (s *sender) clearProbe() {
	s.probeSends, s.probeLate, s.probeDone, s.heldSends = 0, false, false, 0
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
	for _, t := range []time.Time{s.rackAt, s.persistAt, s.probeAt} {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	return d
}
