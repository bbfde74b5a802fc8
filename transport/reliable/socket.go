package reliable

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"
)

// socket owns a packet socket and the one goroutine that reads it. It
// decodes each datagram, drops it if it is damaged, and hands it to the
// connection it names, so that one socket serves any number of connections:
//
//	           ┌──────── socket.readLoop ────────┐
//	datagram → │ decode, check CRC → route by ID │ → Conn.receive → session.step
//	           └─────────────────────────────────┘
//	                    (CONNECT: Listener.accept creates the Conn)
//
// Writes go straight from each Conn's loop to the socket.
type socket struct {
	pc  net.PacketConn
	udp *net.UDPConn // pc, when it is a UDP socket: reads and writes without allocating
	cfg settings

	mu          sync.Mutex           // protects the fields below
	conns       map[uint64]*Conn     // by connection ID
	dialing     map[uint64]*Conn     // dialers waiting for ACCEPT, by nonce
	peers       map[peerKey]*Conn    // listener: by dialer address and nonce, to answer repeated CONNECTs
	closed      map[uint64]*timeWait // connections closed after the peer's FIN, by ID (timewait.go)
	closedOrder ring[*timeWait]      // the same, oldest first
	listener    *Listener            // where new connections go; nil if none
	halfOpen    int                  // conns with halfOpen set
	refs        int                  // the open listener and every Conn not yet closed
	rng         *rand.Rand           // connection IDs, nonces, initial sequence numbers

	readerDone chan struct{}
}

// peerKey names a dialing attempt on a listener.
type peerKey struct {
	addr  string
	nonce uint64
}

// address is a peer's address: a netip.AddrPort on the UDP fast path,
// a net.Addr otherwise.
type address struct {
	ap netip.AddrPort
	na net.Addr
}

func (a address) netAddr() net.Addr {
	if a.na != nil {
		return a.na
	}
	return net.UDPAddrFromAddrPort(a.ap)
}

func (a address) String() string { return a.netAddr().String() }

func toAddress(na net.Addr) address {
	if u, ok := na.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return address{ap: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), na: na}
	}
	return address{na: na}
}

// socketBuffer is the kernel buffer size, each way, that a socket asks for.
const socketBuffer = 4 << 20

// bufferSetter is a packet socket whose kernel buffers can be sized: a
// *net.UDPConn, or a wrapper that passes the calls on to one, such as
// transport.FaultyPacketConn.
type bufferSetter interface {
	SetReadBuffer(bytes int) error
	SetWriteBuffer(bytes int) error
}

// newSocket wraps pc, with refs references, and starts reading it.
func newSocket(pc net.PacketConn, cfg settings, refs int) *socket {
	m := &socket{
		pc: pc, cfg: cfg, refs: refs,
		conns:      make(map[uint64]*Conn),
		dialing:    make(map[uint64]*Conn),
		peers:      make(map[peerKey]*Conn),
		closed:     make(map[uint64]*timeWait),
		rng:        newRand(cfg.seed),
		readerDone: make(chan struct{}),
	}
	if u, ok := pc.(*net.UDPConn); ok {
		m.udp = u
	}
	if b, ok := pc.(bufferSetter); ok {
		// Room for a window's worth of packets in the kernel: the default
		// (about 200 KB) overflows under load, and each overflow is a
		// loss that must be repaired. Best effort: the kernel caps it,
		// and a wrapper may have no kernel socket below it.
		_ = b.SetReadBuffer(socketBuffer)
		_ = b.SetWriteBuffer(socketBuffer)
	}
	go m.readLoop() // exits when pc is closed, by the last release
	return m
}

// newRand returns the random source for seed; zero means unpredictable.
func newRand(seed uint64) *rand.Rand {
	if seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:]) // never fails (Go 1.24+)
		for _, x := range b {
			seed = seed<<8 | uint64(x)
		}
	}
	return rand.New(rand.NewPCG(seed, 0x6c73_7072_6f74_6f63))
}

func (m *socket) readLoop() {
	defer close(m.readerDone)
	buf := make([]byte, m.cfg.packetSize+1) // a datagram that fills it is too long, and fails its checksum
	var p packet
	for {
		n, from, err := m.read(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				err = fmt.Errorf("reliable: read: %w", err)
			}
			m.failAll(err)
			return
		}
		if decodePacket(buf[:n], &p) != nil {
			continue // damaged, truncated, or not ours
		}
		m.route(&p, from, time.Now())
	}
}

func (m *socket) read(b []byte) (int, address, error) {
	if m.udp != nil {
		n, ap, err := m.udp.ReadFromUDPAddrPort(b)
		return n, address{ap: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}, err
	}
	n, na, err := m.pc.ReadFrom(b)
	return n, address{na: na}, err
}

// write sends one datagram. Errors are ignored: to the protocol, a datagram
// that could not be written is a lost one.
func (m *socket) write(b []byte, to address) {
	if m.udp != nil && to.ap.IsValid() {
		_, _ = m.udp.WriteToUDPAddrPort(b, to.ap)
		return
	}
	_, _ = m.pc.WriteTo(b, to.netAddr())
}

// route hands p, which arrived from from at now, to its connection. A
// CONNECT from a new dialer goes to the listener, which makes a connection
// for it. A DATA packet for a connection closed after its peer's FIN, from
// that peer, is answered with the connection's final acknowledgement, for a
// while (timewait.go). Any other DATA or ACK packet for a connection we do
// not have is answered with RESET, so that a peer talking to a closed or
// forgotten connection gives up at once instead of timing out; except
// while a dial waits for its ACCEPT, when the packet may belong to the
// connection being set up, whose ACCEPT was lost.
func (m *socket) route(p *packet, from address, now time.Time) {
	m.mu.Lock()
	var c *Conn
	var tw *timeWait
	switch p.typ {
	case typeConnect:
		key := peerKey{from.String(), p.nonce}
		if c = m.peers[key]; c == nil {
			refuse := m.listener != nil && m.listener.accept(p, from, key, now) // under m.mu
			m.mu.Unlock()
			if refuse {
				m.write(appendPacket(nil, &packet{typ: typeRefuse, nonce: p.nonce}), from)
			}
			return
		}
	case typeAccept:
		if c = m.dialing[p.nonce]; c != nil {
			delete(m.dialing, p.nonce)
			m.conns[p.connID] = c
		}
	case typeRefuse:
		c = m.dialing[p.nonce] // the session checks the nonce again
	default:
		if c = m.conns[p.connID]; c != nil && c.halfOpen && (p.typ == typeData || p.typ == typeAck) {
			m.confirm(c) // the dialer answered: not half-open any more
		}
		if c == nil && (p.typ == typeData || p.typ == typeAck) {
			if tw = m.closedRecord(p.connID, now); tw != nil && !sameAddress(tw.peer, from) {
				tw = nil // not from the peer: a stranger
			}
		}
	}
	mayReset := len(m.dialing) == 0
	m.mu.Unlock()

	switch {
	case tw != nil && p.typ == typeData:
		m.write(tw.ack, from) // tw.ack is never changed: no lock needed
	case tw != nil:
		// An ACK (a heartbeat) is not answered: the peer is not waiting
		// for anything it could tell us, and two closed ends would answer
		// each other's answers.
	case c == nil && (p.typ == typeData || p.typ == typeAck) && mayReset:
		m.write(appendPacket(nil, &packet{typ: typeReset, connID: p.connID}), from)
	case c == nil:
	case (p.typ == typeReset || p.typ == typeRefuse) && from.String() != c.dest.String():
		// Only the peer itself may reset or refuse the connection.
	default:
		c.receive(p, now)
	}
}

// newConnID picks an unused, non-zero connection ID. The caller holds m.mu.
func (m *socket) newConnID() uint64 {
	for {
		if id := m.rng.Uint64(); id != 0 && m.conns[id] == nil && m.closed[id] == nil {
			return id
		}
	}
}

// forget removes c, whose session is over, from the routing tables:
// packets for it are answered with RESET from now on, or, if finalAck is
// not nil (c closed after its peer's FIN), DATA from the peer is answered
// with finalAck for a while.
func (m *socket) forget(c *Conn, id uint64, finalAck []byte, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conns[id] == c {
		delete(m.conns, id)
		if finalAck != nil {
			m.rememberClosed(id, c.dest, finalAck, now)
		}
	}
	if m.dialing[c.nonce] == c {
		delete(m.dialing, c.nonce)
	}
	if m.peers[c.key] == c {
		delete(m.peers, c.key)
	}
	if c.halfOpen {
		m.confirm(c)
	}
}

// confirm takes c off the count of half-open connections. The caller holds
// m.mu.
func (m *socket) confirm(c *Conn) {
	c.halfOpen = false
	m.halfOpen--
}

// failAll fails every connection: the socket cannot be read any more.
func (m *socket) failAll(err error) {
	m.mu.Lock()
	var all []*Conn
	for _, c := range m.conns {
		all = append(all, c)
	}
	for _, c := range m.dialing {
		all = append(all, c)
	}
	m.mu.Unlock()
	for _, c := range all {
		c.fail(err)
	}
}

// release drops one reference; the last one closes the socket and waits
// for the reader to stop.
func (m *socket) release() {
	m.mu.Lock()
	m.refs--
	last := m.refs == 0
	m.mu.Unlock()
	if last {
		_ = m.pc.Close()
		<-m.readerDone
	}
}
