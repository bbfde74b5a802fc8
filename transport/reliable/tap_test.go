package reliable_test

import (
	"net"
	"sync"

	"github.com/distsys-kit/distsys/transport/reliable"
)

// tap wraps a packet socket and watches what passes through it. Its drop
// function, while set, decides which of the datagrams written are lost, so
// that a test can lose one precise packet instead of a random one.
type tap struct {
	net.PacketConn

	mu      sync.Mutex // protects the fields below
	drop    func(reliable.Wire) bool
	dropped []reliable.Wire // the datagrams drop took
	lastAck uint32          // the ack of the last DATA or ACK written
	finEnd  uint32          // one past the FIN written; 0 if none
	resets  int             // RESETs read
}

// setDrop makes the datagrams for which drop is true lost, from now on;
// nil loses none.
func (t *tap) setDrop(drop func(reliable.Wire) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.drop = drop
}

// ackWritten returns the ack of the last DATA or ACK written.
func (t *tap) ackWritten() uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastAck
}

// finSent returns one past the sequence number of the FIN written, the
// ack that acknowledges it; false if no FIN was written.
func (t *tap) finSent() (uint32, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.finEnd, t.finEnd != 0
}

// lost returns the datagrams dropped so far.
func (t *tap) lost() []reliable.Wire {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]reliable.Wire(nil), t.dropped...)
}

// resetsRead returns how many RESETs have arrived.
func (t *tap) resetsRead() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.resets
}

func (t *tap) WriteTo(b []byte, addr net.Addr) (int, error) {
	w, ok := reliable.DescribePacket(b)
	t.mu.Lock()
	if ok && t.drop != nil && t.drop(w) {
		t.dropped = append(t.dropped, w)
		t.mu.Unlock()
		return len(b), nil
	}
	if ok && (w.Type == "DATA" || w.Type == "ACK") {
		t.lastAck = w.Ack
	}
	if ok && w.Fin {
		t.finEnd = w.End
	}
	t.mu.Unlock()
	return t.PacketConn.WriteTo(b, addr)
}

func (t *tap) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := t.PacketConn.ReadFrom(b)
	if err == nil {
		if w, ok := reliable.DescribePacket(b[:n]); ok && w.Type == "RESET" {
			t.mu.Lock()
			t.resets++
			t.mu.Unlock()
		}
	}
	return n, addr, err
}
