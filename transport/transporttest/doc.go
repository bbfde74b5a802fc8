// Package transporttest is the contract every transport.Conn and
// transport.Listener in distsys must keep, written as tests that any
// implementation runs against itself:
//
//	func TestConformance(t *testing.T) {
//		transporttest.TestConn(t, transporttest.ConnConfig{
//			MakePipe:       func(t *testing.T) (a, b transport.Conn) { ... },
//			MaxMessageSize: 1 << 20,
//		})
//	}
//
// The suite checks that messages arrive whole and in order, from concurrent
// senders too, and at every size around a 64 KiB read buffer
// (BufferBoundarySizes) and the implementation's own boundaries, and when
// received with transport.RecvInto into buffers of any size; that ctx
// cancellation and Close unblock every call and lose nothing; that Close is
// idempotent and its errors match transport.ErrClosed and net.ErrClosed;
// that a peer's Close reads as io.EOF after its last message; and that
// oversized messages are refused. It is for reliable, ordered conns (TCP,
// reliable UDP, a fault-free simulated link), not for lossy ones.
package transporttest
