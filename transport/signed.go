package transport

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnauthenticated is returned by Recv on a signed conn (NewSignedConn)
// when a message fails authentication: it was not signed with the shared
// key, was changed in flight, or belongs to another connection. The conn
// is finished: every later Send and Recv fails too. It is also what the
// peer's Recv returns then, since the refusing side tells it so.
var ErrUnauthenticated = errors.New("transport: message failed authentication")

// SignedOverhead is how many bytes a signed conn adds to every message: a
// signed conn over a Conn whose largest message is n carries messages of up
// to n - SignedOverhead bytes.
const SignedOverhead = 1 + nonceLen + 8 + sha256.Size

const (
	signedHello  = 1 // nonce, "please answer", MAC under the shared key
	signedData   = 2 // sender's nonce, sequence number, message, MAC under the session key
	signedRefuse = 3 // unsigned: "your messages fail authentication"

	nonceLen = 16
	helloLen = 1 + nonceLen + 1 + sha256.Size

	firstHelloRetry = 100 * time.Millisecond // doubled after each resend ...
	maxHelloRetry   = 2 * time.Second        // ... up to this
)

// NewSignedConn returns a Conn that signs every message it sends with
// HMAC-SHA256 and refuses every message it receives that is not signed for
// it: forged (not made with key), changed in flight, or replayed, whether
// on this connection or from another one. Both ends must wrap their conn
// with the same key. NewSignedConn sends its hello at once, blocking only
// as long as c's Send does; it never waits for the peer.
//
// It stops strangers and tampering; it hides nothing: anyone on the path
// reads the messages (use TLS for that). One key for everyone means any
// holder of it can pass for any other.
//
// How: each end makes a random nonce and sends it in a hello, signed with
// key. A message then carries its sender's nonce, a sequence number, and a
// MAC under a session key made from key and both nonces, so one key per
// direction and per connection:
//
//	A ── hello(nA) ──▶ B           A ◀── hello(nB) ── B
//	A ── nA, seq 1, msg, MAC(K) ──▶ B      K = HMAC(key, nA, nB)
//
// A message recorded on an old connection fails the MAC on a new one (the
// receiver's nonce is new); a message repeated on the same connection has
// a sequence number seen before, and is dropped as a duplicate (a lossy
// network duplicates messages too); one sent back to its sender fails,
// since the directions have different keys. A message that fails
// authentication ends the conn: Recv returns ErrUnauthenticated, after
// telling the peer, whose Recv returns it too.
//
// To send, a conn needs the peer's nonce: the first Send waits for the
// peer's hello (or a message from it), reading c itself if no Recv is
// under way. Over a network that loses messages, a Send that has waited
// long (100 ms, then longer) sends its hello again, asking the peer to
// answer with its own; the peer answers when it reads. Messages may still
// be lost, or reordered by up to 1024 places (one from further back is
// dropped).
func NewSignedConn(ctx context.Context, c Conn, key []byte) (Conn, error) {
	sc := &signedConn{
		c:      c,
		key:    append([]byte(nil), key...),
		ready:  make(chan struct{}),
		slock:  make(chan struct{}, 1),
		rlock:  make(chan struct{}, 1),
		closed: make(chan struct{}),
	}
	_, _ = rand.Read(sc.nonce[:]) // never fails (crypto/rand)
	if err := sc.sendHello(ctx, false); err != nil {
		return nil, err
	}
	return sc, nil
}

// NewSignedListener returns a Listener whose conns are signed with key (see
// NewSignedConn).
func NewSignedListener(l Listener, key []byte) Listener {
	return &signedListener{Listener: l, key: append([]byte(nil), key...)}
}

// NewSignedDialer returns a Dialer whose conns are signed with key (see
// NewSignedConn).
func NewSignedDialer(d Dialer, key []byte) Dialer {
	key = append([]byte(nil), key...)
	return DialerFunc(func(ctx context.Context, addr string) (Conn, error) {
		c, err := d.Dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		sc, err := NewSignedConn(ctx, c, key)
		if err != nil {
			_ = c.Close()
			return nil, err
		}
		return sc, nil
	})
}

type signedListener struct {
	Listener
	key []byte
}

func (l *signedListener) Accept(ctx context.Context) (Conn, error) {
	c, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := NewSignedConn(ctx, c, l.key)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return sc, nil
}

var _ Conn = (*signedConn)(nil)

type signedConn struct {
	c     Conn
	key   []byte
	nonce [nonceLen]byte

	ready   chan struct{} // closed when the peer's nonce has set the keys below
	sendKey []byte
	broken  atomic.Bool // a message failed authentication: the conn is finished

	// slock is held by the Send under way, from taking a sequence number
	// to handing the message to c: so messages leave in the order of
	// their numbers, and a receiver's window never sees one that
	// concurrent Sends have held back by more than its size.
	slock   chan struct{} // size 1
	sendMAC hash.Hash     // guarded by slock, as is seq
	seq     uint64        // the last sequence number sent

	rlock     chan struct{} // size 1: held by whoever reads c (Recv, or a Send waiting for the peer's nonce)
	peerNonce []byte        // guarded by rlock, as are the fields below
	recvMAC   hash.Hash
	window    replayWindow
	err       error // the failure of authentication that ended the conn

	closed    chan struct{}
	closeOnce sync.Once
}

func (sc *signedConn) LocalAddr() net.Addr  { return sc.c.LocalAddr() }
func (sc *signedConn) RemoteAddr() net.Addr { return sc.c.RemoteAddr() }

func (sc *signedConn) Close() error {
	sc.closeOnce.Do(func() { close(sc.closed) })
	return sc.c.Close()
}

// sendHello sends our nonce. With answer, it asks the peer to send its
// own again: we have waited for it in vain, and the peer may be waiting
// for ours. (The first hello asks nothing: over a network that loses
// nothing, an answer would only be one more message the peer need not
// read, and a peer closing with unread data resets a TCP connection.)
func (sc *signedConn) sendHello(ctx context.Context, answer bool) error {
	b := append([]byte{signedHello}, sc.nonce[:]...)
	if answer {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return sc.c.Send(ctx, mac(sc.key, b))
}

func mac(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(msg)
}

func (sc *signedConn) Send(ctx context.Context, msg []byte) error {
	if err := sc.handshake(ctx); err != nil {
		return err
	}
	if sc.broken.Load() {
		return fmt.Errorf("%w: the connection failed authentication", ErrUnauthenticated)
	}
	select {
	case sc.slock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-sc.closed:
		return ErrClosed
	}
	defer func() { <-sc.slock }()
	if sc.sendMAC == nil {
		sc.sendMAC = hmac.New(sha256.New, sc.sendKey)
	}
	sc.seq++ // even if the Send fails: part of the message may have left
	out := make([]byte, 0, len(msg)+SignedOverhead)
	out = append(out, signedData)
	out = append(out, sc.nonce[:]...)
	out = binary.BigEndian.AppendUint64(out, sc.seq)
	out = append(out, msg...)
	sc.sendMAC.Reset()
	sc.sendMAC.Write(out)
	return sc.c.Send(ctx, sc.sendMAC.Sum(out))
}

// handshake returns once the peer's hello has arrived. If nobody is
// reading c, it reads c itself; meanwhile it resends our hello now and
// then, in case it was lost.
func (sc *signedConn) handshake(ctx context.Context) error {
	retry := firstHelloRetry
	for {
		select {
		case <-sc.ready:
			return nil
		default:
		}
		wait, cancel := context.WithTimeout(ctx, retry)
		var err error
		select {
		case <-sc.ready:
		case sc.rlock <- struct{}{}:
			for err == nil && !isClosed(sc.ready) {
				err = sc.readHello(wait)
			}
			<-sc.rlock
		case <-wait.Done():
		case <-sc.closed:
			cancel()
			return ErrClosed
		}
		timedOut := wait.Err() != nil
		cancel()
		switch {
		case isClosed(sc.ready):
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && !timedOut:
			return err // c failed, or the peer is refused
		case sc.broken.Load():
			return fmt.Errorf("%w: the connection failed authentication", ErrUnauthenticated)
		}
		if err := sc.sendHello(ctx, true); err != nil {
			return err
		}
		retry = min(2*retry, maxHelloRetry)
	}
}

func (sc *signedConn) Recv(ctx context.Context) ([]byte, error) {
	select {
	case sc.rlock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-sc.closed:
		return nil, ErrClosed
	}
	defer func() { <-sc.rlock }()
	for {
		if sc.err != nil {
			return nil, sc.err
		}
		msg, err := sc.c.Recv(ctx)
		if err != nil {
			return nil, err // the conn's own error, not ours to keep
		}
		if body, ok := sc.open(ctx, msg); ok {
			return body, nil
		}
	}
}

// readHello reads one message for a Send waiting for the peer's nonce. It
// is a hello; or, over a network that loses hellos, a message, which is
// lost here: the hello was lost, so the network loses things. The caller
// holds rlock.
func (sc *signedConn) readHello(ctx context.Context) error {
	if sc.err != nil {
		return sc.err
	}
	msg, err := sc.c.Recv(ctx)
	if err != nil {
		return err
	}
	sc.open(ctx, msg)
	return sc.err
}

// open handles one message from the peer: it returns the message a data
// message carries, if it is authentic and new. It takes the peer's nonce
// from a hello (answering one that asks), drops repeats, and ends the conn
// (sc.err) on anything that fails authentication. The caller holds rlock.
func (sc *signedConn) open(ctx context.Context, msg []byte) ([]byte, bool) {
	switch {
	case len(msg) == helloLen && msg[0] == signedHello:
		body := msg[:helloLen-sha256.Size]
		if !hmac.Equal(mac(sc.key, bytes.Clone(body)), msg) {
			sc.refuse(ctx, "a hello not signed with our key")
			return nil, false
		}
		nonce := body[1 : 1+nonceLen]
		if sc.peerNonce == nil {
			sc.setKeys(nonce)
		}
		if body[1+nonceLen] == 1 && bytes.Equal(nonce, sc.peerNonce) {
			_ = sc.sendHello(ctx, false) // the peer waits for our nonce: ours was lost
		}
		return nil, false // a repeat, or an old conn's hello: nothing to do
	case len(msg) >= SignedOverhead && msg[0] == signedData:
		nonce := msg[1 : 1+nonceLen]
		recvMAC := sc.recvMAC
		switch {
		case sc.peerNonce == nil: // its hello was lost: this message tells the nonce
			recvMAC = hmac.New(sha256.New, sessionKey(sc.key, nonce, sc.nonce[:]))
		case !bytes.Equal(nonce, sc.peerNonce):
			sc.refuse(ctx, "a message from another connection")
			return nil, false
		}
		body, sum := msg[:len(msg)-sha256.Size], msg[len(msg)-sha256.Size:]
		recvMAC.Reset()
		recvMAC.Write(body)
		var buf [sha256.Size]byte
		if !hmac.Equal(recvMAC.Sum(buf[:0]), sum) {
			sc.refuse(ctx, "a message not signed for this connection")
			return nil, false
		}
		if sc.peerNonce == nil {
			sc.setKeys(nonce)
		}
		if !sc.window.accept(binary.BigEndian.Uint64(body[1+nonceLen:])) {
			return nil, false // seen before: a replay, or the network's duplicate
		}
		return body[1+nonceLen+8:], true
	case len(msg) == 1 && msg[0] == signedRefuse:
		sc.err = fmt.Errorf("%w: the peer refused our messages (another key?)", ErrUnauthenticated)
		sc.broken.Store(true)
	default:
		sc.refuse(ctx, "a message that is not signed")
	}
	return nil, false
}

// setKeys learns the peer's nonce and derives the session keys from it.
// The caller holds rlock; ready is closed last, so that a Send that sees
// it closed sees the keys.
func (sc *signedConn) setKeys(peer []byte) {
	sc.peerNonce = bytes.Clone(peer)
	sc.sendKey = sessionKey(sc.key, sc.nonce[:], sc.peerNonce)
	sc.recvMAC = hmac.New(sha256.New, sessionKey(sc.key, sc.peerNonce, sc.nonce[:]))
	close(sc.ready)
}

// sessionKey is the key of the messages from the end with nonce from to
// the end with nonce to.
func sessionKey(key, from, to []byte) []byte {
	return mac(key, append(append([]byte("distsys signed conn "), from...), to...))
}

// refuse ends the conn with ErrUnauthenticated, telling the peer why.
func (sc *signedConn) refuse(ctx context.Context, what string) {
	sc.err = fmt.Errorf("%w: %s", ErrUnauthenticated, what)
	sc.broken.Store(true)
	_ = sc.c.Send(ctx, []byte{signedRefuse})
}

// replayWindow remembers which of the last 1024 sequence numbers have been
// seen, as IPsec does: a number is accepted once, and a number further
// back than that is refused, having perhaps been seen and forgotten.
type replayWindow struct {
	top  uint64     // the highest number seen
	seen [16]uint64 // bit n%1024 is set if n (top-1024 < n <= top) has been seen
}

func (w *replayWindow) accept(n uint64) bool {
	const size = 1024
	switch {
	case n == 0 || w.top >= size && n <= w.top-size:
		return false
	case n > w.top:
		for i := w.top + 1; i < n && i <= w.top+size; i++ {
			w.seen[i/64%16] &^= 1 << (i % 64) // forget the numbers the window moves past
		}
		w.top = n
	case w.seen[n/64%16]&(1<<(n%64)) != 0:
		return false
	}
	w.seen[n/64%16] |= 1 << (n % 64)
	return true
}
