package transport_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/transporttest"
)

var signKey = []byte("correct horse battery staple")

// signedPair signs both ends of the conns x and y with keys kx and ky.
func signedPair(t *testing.T, x, y transport.Conn, kx, ky []byte) (a, b transport.Conn) {
	t.Helper()
	a, err := transport.NewSignedConn(t.Context(), x, kx)
	require.NoError(t, err)
	b, err = transport.NewSignedConn(t.Context(), y, ky)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestSignedConnConformance(t *testing.T) {
	tests := []struct {
		name string
		pipe func(*testing.T) (a, b transport.Conn)
	}{
		{"NetPipe", func(t *testing.T) (a, b transport.Conn) {
			x, y := netPipe(t)
			return signedPair(t, x, y, signKey, signKey)
		}},
		{"TCP", func(t *testing.T) (a, b transport.Conn) {
			x, y := tcpPipe(t, nil, nil)
			return signedPair(t, x, y, signKey, signKey)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			transporttest.TestConn(t, transporttest.ConnConfig{MakePipe: tt.pipe, MaxMessageSize: testMax - transport.SignedOverhead})
		})
	}
}

// recorder is a Conn that keeps a copy of every message sent through it.
type recorder struct {
	transport.Conn
	mu   sync.Mutex // protects sent
	sent [][]byte
}

func (r *recorder) Send(ctx context.Context, msg []byte) error {
	r.mu.Lock()
	r.sent = append(r.sent, bytes.Clone(msg))
	r.mu.Unlock()
	return r.Conn.Send(ctx, msg)
}

func (r *recorder) recorded() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent
}

// TestSignedConnDropsReplayOnSameConn replays a captured signed message on
// the connection it was captured from: the receiver drops it, and the
// messages after it arrive.
func TestSignedConnDropsReplayOnSameConn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		x, y := netPipe(t)
		rx := &recorder{Conn: x}
		a, b := signedPair(t, rx, y, signKey, signKey)
		ctx := t.Context()
		require.NoError(t, a.Send(ctx, []byte("pay bob $100")))
		got, err := b.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, "pay bob $100", string(got))

		sent := rx.recorded()
		require.NoError(t, x.Send(ctx, sent[len(sent)-1]), "the attacker replays it")
		require.NoError(t, a.Send(ctx, []byte("done")))
		got, err = b.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "done", string(got), "the replay was dropped")
	})
}

// TestSignedConnRefusesReplayOnNewConn replays everything a client sent on
// one connection (its hello, then a signed request) on a new connection
// to the same server: the server refuses it, and tells the sender.
func TestSignedConnRefusesReplayOnNewConn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		x, y := netPipe(t)
		rx := &recorder{Conn: x}
		a, b := signedPair(t, rx, y, signKey, signKey)
		ctx := t.Context()
		require.NoError(t, a.Send(ctx, []byte("pay bob $100")))
		_, err := b.Recv(ctx)
		require.NoError(t, err)

		attacker, y2 := netPipe(t)
		server, err := transport.NewSignedConn(ctx, y2, signKey)
		require.NoError(t, err)
		defer server.Close()
		for _, msg := range rx.recorded() {
			require.NoError(t, attacker.Send(ctx, msg))
		}
		_, err = server.Recv(ctx)
		require.ErrorIs(t, err, transport.ErrUnauthenticated)
		assert.ErrorIs(t, server.Send(ctx, []byte("x")), transport.ErrUnauthenticated, "the conn is finished")

		var last []byte
		for {
			msg, err := attacker.Recv(ctx)
			require.NoError(t, err)
			if last = msg; len(msg) == 1 {
				break
			}
		}
		assert.Equal(t, []byte{3}, last, "the attacker was told: refused")
	})
}

// TestSignedConnRefusesStrangers checks a peer with another key, and one
// that does not sign at all: both are refused with a clear error on both
// sides, rather than left waiting.
func TestSignedConnRefusesStrangers(t *testing.T) {
	t.Run("WrongKey", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			x, y := netPipe(t)
			a, b := signedPair(t, x, y, []byte("guess"), signKey)
			errs := make(chan error, 1)
			go func() { _, err := b.Recv(t.Context()); errs <- err }()
			require.ErrorIs(t, a.Send(t.Context(), []byte("hi")), transport.ErrUnauthenticated)
			require.ErrorIs(t, <-errs, transport.ErrUnauthenticated)
		})
	})
	t.Run("Unsigned", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			x, y := netPipe(t)
			b, err := transport.NewSignedConn(t.Context(), y, signKey)
			require.NoError(t, err)
			defer b.Close()
			require.NoError(t, x.Send(t.Context(), []byte("hi")))
			_, err = b.Recv(t.Context())
			require.ErrorIs(t, err, transport.ErrUnauthenticated)
		})
	})
}

// flipper is a Conn that flips one bit, at pos (from the end if
// negative), of the n-th message it sends.
type flipper struct {
	transport.Conn
	n, pos int
	count  int
}

func (f *flipper) Send(ctx context.Context, msg []byte) error {
	if f.count++; f.count == f.n {
		msg = bytes.Clone(msg)
		msg[(f.pos+len(msg))%len(msg)] ^= 1
	}
	return f.Conn.Send(ctx, msg)
}

// TestSignedConnRefusesTampering changes one bit of a signed message in
// flight, in each of its parts: every change is refused.
func TestSignedConnRefusesTampering(t *testing.T) {
	tests := []struct {
		name string
		pos  int
	}{
		{"Kind", 0},
		{"Nonce", 1},
		{"Sequence", 1 + 16},
		{"Message", 1 + 16 + 8},
		{"MAC", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				x, y := netPipe(t)
				a, b := signedPair(t, &flipper{Conn: x, n: 2, pos: tt.pos}, y, signKey, signKey) // the hello, then this
				require.NoError(t, a.Send(t.Context(), []byte("pay bob $100")))
				_, err := b.Recv(t.Context())
				require.ErrorIs(t, err, transport.ErrUnauthenticated)
			})
		})
	}
}

// TestSignedConnOverLossyNetwork checks the handshake and the messages over
// a network that loses, duplicates, delays and reorders messages: hellos
// are resent until they get through, nothing arrives twice, and what
// arrives is what was sent.
func TestSignedConnOverLossyNetwork(t *testing.T) {
	for seed := range int64(8) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				faults := transport.Faults{Drop: 0.3, Duplicate: 0.3, Reorder: 0.3, Delay: time.Millisecond, Jitter: 3 * time.Millisecond}
				x, y := netPipe(t)
				fx, err := transport.NewFaultyConn(x, withSeed(faults, 2*seed))
				require.NoError(t, err)
				fy, err := transport.NewFaultyConn(y, withSeed(faults, 2*seed+1))
				require.NoError(t, err)
				a, b := signedPair(t, fx, fy, signKey, signKey)

				const n = 100
				received := make(chan map[string]int, 1)
				go func() {
					seen := map[string]int{}
					for {
						msg, err := b.Recv(t.Context())
						if err != nil {
							received <- seen
							return
						}
						seen[string(msg)]++
					}
				}()
				for i := range n {
					require.NoError(t, a.Send(t.Context(), fmt.Appendf(nil, "m%d", i)))
				}
				time.Sleep(time.Second) // in virtual time: let the last ones land
				require.NoError(t, b.Close())
				seen := <-received
				assert.Greater(t, len(seen), n/2, "most messages got through")
				for msg, times := range seen {
					assert.Equal(t, 1, times, "%s arrived more than once", msg)
				}
			})
		})
	}
}

func withSeed(f transport.Faults, seed int64) transport.Faults {
	f.Seed = seed
	return f
}

// TestSignedListenerAndDialer signs both ends through the listener and
// dialer wrappers, over TCP.
func TestSignedListenerAndDialer(t *testing.T) {
	inner, err := transport.ListenTCP("127.0.0.1:0")
	require.NoError(t, err)
	l := transport.NewSignedListener(inner, signKey)
	defer l.Close()
	accepted := make(chan transport.Conn, 1)
	go func() {
		c, err := l.Accept(context.Background())
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	ctx := t.Context()
	c, err := transport.NewSignedDialer(transport.NewTCPDialer(), signKey).Dial(ctx, l.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	s, ok := <-accepted
	require.True(t, ok)
	defer s.Close()
	require.NoError(t, c.Send(ctx, []byte("ping")))
	msg, err := s.Recv(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Send(ctx, append(msg, " pong"...)))
	msg, err = c.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ping pong", string(msg))
}

// FuzzSignedRecv feeds arbitrary messages to a signed conn: none is
// accepted, none makes it panic, and each one that is not a hello or a
// repeat ends the conn with ErrUnauthenticated.
func FuzzSignedRecv(f *testing.F) {
	f.Add([]byte{1})
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 1, 'x'})
	f.Add([]byte{3})
	f.Add(append([]byte{1}, make([]byte, 16+1+32)...))
	f.Add(append([]byte{2}, make([]byte, 8+32)...))
	f.Fuzz(func(t *testing.T, msg []byte) {
		x, y := net.Pipe()
		raw, inner := transport.NewConn(x), transport.NewConn(y)
		defer raw.Close()
		s, err := transport.NewSignedConn(context.Background(), inner, signKey)
		require.NoError(t, err)
		defer s.Close()
		go func() {
			_ = raw.Send(context.Background(), msg)
			for { // read what s sends back, so that it never blocks
				if _, err := raw.Recv(context.Background()); err != nil {
					return
				}
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		got, err := s.Recv(ctx)
		require.Error(t, err, "accepted %q", got)
	})
}

// Two programs that share a key sign their messages; a stranger's, or a
// replay of an old one, would be refused.
func ExampleNewSignedConn() {
	ctx := context.Background()
	x, y := net.Pipe()
	key := []byte("correct horse battery staple")
	a, _ := transport.NewSignedConn(ctx, transport.NewConn(x), key)
	b, _ := transport.NewSignedConn(ctx, transport.NewConn(y), key)
	defer a.Close()
	defer b.Close()

	go a.Send(ctx, []byte("hello, b"))
	msg, err := b.Recv(ctx)
	fmt.Println(string(msg), err)
	// Output:
	// hello, b <nil>
}
