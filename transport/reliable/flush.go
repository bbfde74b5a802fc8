package reliable

import "time"

// flush builds the packets the session wants sent now and returns them. They
// stay valid until the next call to flush; the driver sends each as one
// datagram. It builds at most maxBurst packets; pending says whether there
// are more.
//
// Data packets are filled greedily: segments lost first, then new ones, as
// many as fit in packetSize. Every DATA carries the acknowledgement of what
// we received (piggybacking); the selective ranges ride along when something
// arrived since the last acknowledgement. An ACK alone goes out only when
// there is no data to carry it.
func (s *session) flush(now time.Time) [][]byte {
	s.out = s.out[:0]
	if s.resetDue {
		s.emit(&packet{typ: typeReset, connID: s.connID})
		s.resetDue = false
	}
	switch s.state {
	case stateConnecting:
		if s.connectDue {
			s.emit(s.handshake(typeConnect))
			s.connectDue = false
			if s.connects++; s.connects == 1 {
				s.firstSent = now
			}
			s.connectAt = now.Add(s.connectWait)
			s.connectWait = min(2*s.connectWait, s.cfg.maxBackOff)
		}
		return s.done()
	case stateFailed:
		return s.done()
	}
	if s.acceptDue {
		s.emit(s.handshake(typeAccept))
		s.acceptDue = false
	}
	sendData := s.state == stateOpen || s.state == stateClosing
	for len(s.out) < maxBurst {
		ackNeeded := s.rcv.ackPending || s.heartbeat
		var seg *outSegment
		var seq uint32
		if sendData {
			seg, seq = s.snd.peek()
		}
		if seg == nil && !ackNeeded {
			break
		}
		p := &s.scratch
		p.typ, p.connID, p.segs = typeData, s.connID, p.segs[:0]
		ranges := 0
		if ackNeeded {
			ranges = min(maxRanges, (s.packetSize-ackBlockLen)/rangeLen)
		}
		s.rcv.ackBlock(p, ranges)
		size := p.encodedLen()
		for seg != nil && size+segmentHeaderLen+len(seg.data) <= s.packetSize {
			p.segs = append(p.segs, segment{seq: seq, fin: seg.fin, left: seg.left, data: seg.data})
			size += segmentHeaderLen + len(seg.data)
			s.snd.markSent(seg, seq, now)
			seg, seq = s.snd.peek()
		}
		if len(p.segs) == 0 {
			p.typ = typeAck
		}
		s.emit(p)
		s.heartbeat = false
	}
	if sendData {
		s.snd.checkWindowProbe(now) // blocked by the peer's window? time the probe
	}
	return s.done()
}

// handshake builds our CONNECT or ACCEPT.
func (s *session) handshake(typ packetType) *packet {
	return &packet{
		typ: typ, connID: s.connID, nonce: s.nonce, isn: s.isn,
		packetSize: s.cfg.packetSize, window: uint32(s.cfg.window), maxMessage: s.cfg.maxMessage,
	}
}

// emit encodes p into the next buffer and adds it to out.
func (s *session) emit(p *packet) {
	i := len(s.out)
	if i == len(s.bufs) {
		s.bufs = append(s.bufs, nil)
	}
	if n := p.encodedLen(); cap(s.bufs[i]) < n {
		// A buffer is as large as its first packet needs, and packetSize
		// once one needs more: a session that only ever sends ACKs (or a
		// half-open one, its ACCEPT) does not hold a datagram's worth.
		size := n
		if cap(s.bufs[i]) > 0 {
			size = max(n, s.packetSize)
		}
		s.bufs[i] = make([]byte, 0, size)
	}
	b := appendPacket(s.bufs[i][:0], p)
	s.bufs[i] = b
	s.out = append(s.out, b)
	s.spoke = true
	s.stats.PacketsSent++
}

// done returns out, first letting go of buffers that the last flushes did
// not need, so that an idle session does not hold a burst's worth.
func (s *session) done() [][]byte {
	if keep := max(4, 2*len(s.out)); len(s.bufs) > keep {
		clear(s.bufs[keep:])
		s.bufs = s.bufs[:keep]
	}
	return s.out
}
