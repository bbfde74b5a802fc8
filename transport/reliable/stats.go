package reliable

import "time"

// Stats counts what one end of a connection did, so that a test or a demo
// can see the protocol at work: how many segments a lossy link made it send
// again, how many copies it threw away.
type Stats struct {
	MessagesSent     int64 // messages accepted by Send
	MessagesReceived int64 // messages reassembled, in order, for Recv
	PacketsSent      int64 // datagrams sent, of every type
	PacketsReceived  int64 // datagrams received for this connection and accepted
	SegmentsSent     int64 // segments sent, first copies and retransmissions
	Retransmissions  int64 // segments sent again
	FastRetransmits  int64 // segments found lost because a later one was acknowledged
	Timeouts         int64 // segments found lost because their timeout expired
	SpuriousTimeouts int64 // timeouts found needless: a segment sent before one was acknowledged after it
	TailProbes       int64 // segments sent because nothing was acknowledged for two round trips
	Duplicates       int64 // segments received that had arrived already

	SmoothedRTT      time.Duration // the round-trip time estimate
	CongestionWindow int           // bytes congestion control allows in flight now; 0 with FixedWindow
}
