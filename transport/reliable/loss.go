package reliable

import "time"

// Loss detection by time of sending: the sender's verdicts on which
// segments are gone (see sender for the two ways losses are found).

// detectLoss marks lost every unacknowledged segment sent before the
// latest-sent segment known to have arrived, once it has had a round trip
// and a quarter more to be acknowledged: the quarter is the slack for
// packets merely overtaken (the reordering window). A segment not yet that
// old is checked again when it is (rackAt).
//
// "Sent before" is by time of sending, not by sequence number: when a
// retransmission of an old segment is acknowledged (the probe after a
// timeout, say), every segment above it sent before the retransmission is
// lost too. The scan stops at the first segment above the highest one
// acknowledged that was sent once and after that acknowledged copy: the
// segments after it were sent later still (first copies go out in order),
// except for retransmissions, which were found lost already and are
// checked again by the timer if their new copy is lost too.
//
// A verdict held from a timeout's probe (heldSends, see sender) joins
// rackSends once heldAt has passed.
func (s *sender) detectLoss(now time.Time) {
	if s.heldSends != 0 && !now.Before(s.heldAt) {
		s.rackSends = max(s.rackSends, s.heldSends) // no late flight showed up
		s.clearProbe()
	}
	s.rackAt = time.Time{}
	if s.heldSends != 0 {
		s.rackAt = s.heldAt
	}
	found := false
	wait := s.srtt + s.srtt/4
	for seq := s.una; seqLess(seq, s.next); seq++ {
		seg := s.segs.at(int(seq - s.una))
		if seg.sendNum >= s.rackSends && seg.xmits == 1 && !seqLess(seq, s.highAcked) {
			break
		}
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
		found = true
		s.stats.FastRetransmits++
	}
	if found {
		s.cc.onLoss(s.next)
	}
}

func (s *sender) markLost(seg *outSegment, seq uint32) {
	seg.lost = true
	s.nlost++
	s.lostBytes += wireSize(seg)
	s.lost.push(seq)
}
