package reliable

// Wire is what a test outside the package may learn of a datagram.
type Wire struct {
	Type string // "CONNECT", "ACCEPT", "DATA", "ACK" or "RESET"
	Ack  uint32 // the cumulative acknowledgement of a DATA or ACK
	Segs int    // segments carried, a FIN among them
	Fin  bool   // one of them ends the stream
	End  uint32 // one past the last segment's sequence number
}

// DescribePacket decodes datagram b for tests outside the package; ok is
// false if b is not a valid packet.
func DescribePacket(b []byte) (w Wire, ok bool) {
	var p packet
	if decodePacket(b, &p) != nil {
		return Wire{}, false
	}
	w = Wire{Type: p.typ.String(), Ack: p.ack, Segs: len(p.segs)}
	for _, s := range p.segs {
		w.Fin = w.Fin || s.fin
		w.End = s.seq + 1
	}
	return w, true
}
