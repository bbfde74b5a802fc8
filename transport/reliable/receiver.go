package reliable

import (
	"fmt"

	"github.com/distsys-kit/distsys/transport"
)

// receiver is the receiving half of a connection. It puts segments back in
// order, drops the ones it already has, glues fragments back into messages,
// and says what to acknowledge.
//
// It holds at most window segments: those that arrived out of order (in
// slots), and the messages complete but not yet read (in ready). The window
// it advertises is the room left, so a sender that respects it never sends
// what the receiver would have to drop.
type receiver struct {
	next   uint32      // the next segment expected: every one before it has arrived
	window int         // our WindowSize
	slots  []inSegment // segment next+i waits in slot(i); len is a power of two
	head   int         // the index in slots of segment next
	high   uint32      // one past the highest segment held in slots (next if none)

	partial     []byte // the message being reassembled
	partialSegs int    // segments in partial
	inMessage   bool   // partial has a first fragment
	wantLeft    uint32 // the left value of the next fragment of partial

	ready      ring[readyMessage] // complete messages, not yet read
	readySegs  int                // segments the messages in ready took
	finished   bool               // the FIN has been delivered: nothing follows
	discard    bool               // nobody will read: drop messages as they complete
	maxMessage int

	ackPending bool   // something arrived that the peer should hear about
	edge       uint32 // next+window as last advertised
	err        error  // the peer broke the protocol

	stats *Stats
}

// inSegment is a segment that arrived before its turn.
type inSegment struct {
	present bool
	fin     bool
	left    uint32
	data    []byte // a copy: the datagram it came in is reused
}

type readyMessage struct {
	msg  []byte
	segs int
}

func newReceiver(isn uint32, s settings, stats *Stats) receiver {
	return receiver{
		next: isn, high: isn, edge: isn + uint32(s.window),
		window:     s.window,
		maxMessage: s.maxMessage, stats: stats,
	}
}

// onSegment takes one segment from a packet. seg.data belongs to the
// packet and is copied if kept.
func (r *receiver) onSegment(seg segment) {
	r.ackPending = true // even for a duplicate: our last ACK may have been lost
	off := seg.seq - r.next
	if off >= r.room() {
		// Before next: it arrived already (a duplicate, or a copy sent
		// again because our ACK was lost). Beyond the window: no room for
		// it (the sender probes a closed window so, or went by an older
		// window); it will be sent again.
		if seqLess(seg.seq, r.next) {
			r.stats.Duplicates++
		}
		return
	}
	if off > 0 { // early: keep it until the hole before it is filled
		slot := r.slot(int(off))
		if slot.present {
			r.stats.Duplicates++
			return
		}
		*slot = inSegment{present: true, fin: seg.fin, left: seg.left, data: append([]byte(nil), seg.data...)}
		if !seqLess(seg.seq, r.high) {
			r.high = seg.seq + 1
		}
		return
	}
	// Its turn: take it, then every waiting segment that follows it.
	r.deliver(seg.fin, seg.left, seg.data, false)
	for {
		r.advance()
		slot := r.slot(0)
		if !slot.present {
			break
		}
		s := *slot
		*slot = inSegment{}
		r.deliver(s.fin, s.left, s.data, true)
	}
}

// slot returns where segment next+i waits, growing slots to hold it. They
// start small and grow as segments arrive early, so an idle connection does
// not hold a window's worth of them. i < window.
func (r *receiver) slot(i int) *inSegment {
	if i >= len(r.slots) {
		size := max(64, len(r.slots))
		for size <= i {
			size *= 2
		}
		slots := make([]inSegment, size)
		for j := range r.slots {
			slots[j] = r.slots[(r.head+j)&(len(r.slots)-1)]
		}
		r.slots, r.head = slots, 0
	}
	return &r.slots[(r.head+i)&(len(r.slots)-1)]
}

// advance moves past the segment just delivered.
func (r *receiver) advance() {
	r.next++
	r.head = (r.head + 1) & (len(r.slots) - 1)
	if seqLess(r.high, r.next) {
		r.high = r.next
	}
}

// deliver takes the next segment in order. owned says whether data may be
// kept as it is (it is a copy already) or must be copied.
func (r *receiver) deliver(fin bool, left uint32, data []byte, owned bool) {
	if r.err != nil || r.finished {
		return
	}
	switch {
	case fin:
		if r.inMessage {
			r.fail(fmt.Errorf("%w: stream ends inside a message", ErrProtocol))
			return
		}
		r.finished = true
	case !r.inMessage && left == 0: // a whole message in one segment
		if len(data) > r.maxMessage {
			r.fail(fmt.Errorf("%w: peer sent %d bytes, limit is %d", transport.ErrMessageTooLarge, len(data), r.maxMessage))
			return
		}
		if !owned {
			data = append([]byte(nil), data...)
		}
		r.complete(data, 1)
	case !r.inMessage: // the first fragment of a longer message
		if len(data) > r.maxMessage {
			r.fail(fmt.Errorf("%w: peer sent more than %d bytes in one message", transport.ErrMessageTooLarge, r.maxMessage))
			return
		}
		r.inMessage, r.wantLeft, r.partialSegs = true, left-1, 1
		r.appendPartial(data, left)
	default: // a following fragment
		if left != r.wantLeft {
			r.fail(fmt.Errorf("%w: fragment out of sequence", ErrProtocol))
			return
		}
		if len(r.partial)+len(data) > r.maxMessage {
			r.fail(fmt.Errorf("%w: peer sent more than %d bytes in one message", transport.ErrMessageTooLarge, r.maxMessage))
			return
		}
		r.appendPartial(data, left)
		r.partialSegs++
		r.wantLeft--
		if left == 0 {
			msg, segs := r.partial, r.partialSegs
			r.partial, r.partialSegs, r.inMessage = nil, 0, false
			r.complete(msg, segs)
		}
	}
}

// appendPartial appends a fragment to the message being reassembled;
// left fragments are still to come. Memory follows the fragments that
// arrived: partial doubles as it fills, and never beyond what the
// fragments still to come can add (left × SegmentSize), so a first
// fragment announcing a 16 MiB message costs a few KiB, not 16 MiB.
func (r *receiver) appendPartial(data []byte, left uint32) {
	need := len(r.partial) + len(data)
	if need > cap(r.partial) {
		most := int64(need) + int64(left)*SegmentSize // the message cannot be longer
		size := int(min(int64(max(2*cap(r.partial), minPartial)), most, int64(r.maxMessage)))
		grown := make([]byte, len(r.partial), max(size, need))
		copy(grown, r.partial)
		r.partial = grown
	}
	r.partial = append(r.partial, data...)
}

// minPartial is the room a message being reassembled starts with.
const minPartial = 4 << 10

func (r *receiver) complete(msg []byte, segs int) {
	if msg == nil {
		msg = []byte{} // an empty message is still a message: never nil
	}
	r.stats.MessagesReceived++
	if r.discard {
		return
	}
	r.ready.push(readyMessage{msg, segs})
	r.readySegs += segs
}

func (r *receiver) fail(err error) {
	r.err = err
	r.partial = nil
}

// pop returns the oldest complete message, if any. It sets ackPending when
// reading it opened the window enough to be worth telling the sender: by a
// quarter of the window, or from nothing.
func (r *receiver) pop() ([]byte, bool) {
	if r.ready.len() == 0 {
		return nil, false
	}
	m := r.ready.pop()
	r.readySegs -= m.segs
	if edge := r.next + r.room(); r.edge == r.next || int(edge-r.edge) >= r.window/4 {
		r.ackPending = true
	}
	return m.msg, true
}

// dropReady discards the messages not yet read and every one still to
// come: after Close, nobody reads them, and holding them would only close
// the window on the peer.
func (r *receiver) dropReady() {
	r.discard = true
	for r.ready.len() > 0 {
		r.ready.pop()
	}
	r.readySegs = 0
}

// advertised is the room left, counted from next: the window less the
// segments of the messages not read yet.
func (r *receiver) advertised() uint32 {
	return uint32(max(0, r.window-r.readySegs))
}

// room is how many segments from next on we accept, and advertise: the
// room left, or more if we promised more. A message's segments join
// readySegs when it completes, all at once, while its earlier fragments
// had moved next, and with it the edge we advertised, which the sender
// may have filled; taking the promise back would drop what it sent in
// good faith (TCP forbids shrinking the window for the same reason). The
// overshoot is at most one message's fragments.
func (r *receiver) room() uint32 {
	room := r.advertised()
	if seqLess(r.next, r.edge) {
		room = max(room, r.edge-r.next)
	}
	return room
}

// ackBlock fills in an acknowledgement: the cumulative ack, the window, and
// up to maxRanges ranges of segments held above next, lowest first (the
// holes nearest to next matter most).
func (r *receiver) ackBlock(p *packet, maxRanges int) {
	p.ack = r.next
	p.window = r.room()
	r.edge = r.next + p.window
	p.ranges = p.ranges[:0]
	for seq, i := r.next+1, 1; seqLess(seq, r.high) && len(p.ranges) < maxRanges; seq, i = seq+1, i+1 {
		if !r.slot(i).present {
			continue
		}
		if n := len(p.ranges); n > 0 && p.ranges[n-1].end == seq {
			p.ranges[n-1].end++
		} else {
			p.ranges = append(p.ranges, seqRange{seq, seq + 1})
		}
	}
	r.ackPending = false
}
