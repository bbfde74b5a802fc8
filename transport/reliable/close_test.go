package reliable_test

import (
	"fmt"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/reliable"
)

// openPipe connects a dialer over cpc to a listener on spc (named
// "server"), and returns both ends. Unlike memPipe, it leaves the listener
// open until cleanup, so that the server's socket outlives the server's
// conn, as a server's does. Call it inside a synctest bubble.
func openPipe(t *testing.T, spc, cpc net.PacketConn, cfg reliable.Config) (client, server *reliable.Conn) {
	t.Helper()
	ctx := t.Context()
	l, err := reliable.ListenPacket(spc, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	accepted := make(chan transport.Conn, 1)
	go func() {
		c, err := l.Accept(ctx)
		if err != nil {
			t.Errorf("accept: %v", err)
		}
		accepted <- c
	}()
	client, err = reliable.DialPacket(ctx, cpc, memAddr("server"), cfg)
	require.NoError(t, err)
	s := <-accepted
	require.NotNil(t, s)
	server = s.(*reliable.Conn)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// The "last ACK" problem, packet by packet. The client sends, then closes
// (FIN); the server reads io.EOF and closes at once, which is immediate
// since the client has closed. But the server's acknowledgement of the
// last message and the FIN is lost. So the client sends them again, to a
// connection the server has closed: the server's socket must answer with
// the acknowledgement it would have sent (the connection's time-wait
// record), not with a RESET, and the client's Close must return nil,
// since the server received everything.
func TestCloseWhenAckOfFinLostAfterPeerClosed(t *testing.T) {
	tests := []struct {
		name     string
		messages int
	}{
		{"MessageThenFIN", 1},
		{"ManyMessagesThenFIN", 50},
		{"FINAlone", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				n := newMemNet()
				srv := &tap{PacketConn: n.faulty(t, "server", slowLink)}
				cli := &tap{PacketConn: n.faulty(t, "client", slowLink)}
				cfg := reliable.Config{Seed: 1}
				client, server := openPipe(t, srv, cli, cfg)
				synctest.Wait() // the handshake's last packets have landed

				// From now on, every acknowledgement of something new
				// that the server sends is lost.
				settled := srv.ackWritten()
				srv.setDrop(func(w reliable.Wire) bool {
					return (w.Type == "ACK" || w.Type == "DATA") && w.Ack != settled
				})
				closed := make(chan error, 1)
				start := time.Now()
				go func() {
					for i := range tt.messages {
						if err := client.Send(ctx, []byte(fmt.Sprint("message ", i))); err != nil {
							closed <- err
							return
						}
					}
					closed <- client.Close()
				}()
				for i := range tt.messages {
					got, err := server.Recv(ctx)
					require.NoError(t, err)
					require.Equal(t, fmt.Sprint("message ", i), string(got))
				}
				_, err := server.Recv(ctx)
				require.ErrorIs(t, err, io.EOF)
				require.NoError(t, server.Close(), "the client closed first: nothing to wait for")
				lost := srv.lost()
				require.NotEmpty(t, lost, "the acknowledgement was lost")
				finAck, ok := cli.finSent()
				require.True(t, ok)
				assert.Equal(t, finAck, lost[len(lost)-1].Ack, "the acknowledgement of the FIN was lost")
				srv.setDrop(nil) // the link works again

				require.NoError(t, <-closed, "the server received everything")
				assert.Less(t, time.Since(start), reliable.DefaultLinger,
					"Close had its acknowledgement: it did not wait out Linger")
				assert.Zero(t, cli.resetsRead(), "the closed conn answered with its last ACK, not RESET")
				st := client.Stats()
				assert.Positive(t, st.Timeouts+st.TailProbes, "the client sent the FIN again")
			})
		})
	}
}

// The same, left to chance: on a link that loses, duplicates and reorders
// a tenth of the datagrams each way, a client sends a stream and closes; the
// server reads to io.EOF and closes at once. Both Closes return nil, seed
// after seed.
func TestBothClosesSucceedUnderFaults(t *testing.T) {
	const seeds, messages = 100, 100
	for seed := range int64(seeds) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				faults := transport.Faults{
					Drop: 0.1, Duplicate: 0.1, Reorder: 0.1,
					Delay: time.Millisecond, Jitter: time.Millisecond,
				}
				sf, cf := faults, faults
				sf.Seed, cf.Seed = 2*seed+1, 2*seed+2
				n := newMemNet()
				cfg := reliable.Config{Seed: uint64(seed) + 1}
				client, server := openPipe(t, n.faulty(t, "server", sf), n.faulty(t, "client", cf), cfg)

				closed := make(chan error, 1)
				go func() {
					for i := range messages {
						if err := client.Send(ctx, payload(1, i)); err != nil {
							closed <- err
							return
						}
					}
					closed <- client.Close()
				}()
				for i := range messages {
					got, err := server.Recv(ctx)
					require.NoError(t, err)
					require.Equal(t, payload(1, i), got, "message %d", i)
				}
				_, err := server.Recv(ctx)
				require.ErrorIs(t, err, io.EOF)
				require.NoError(t, server.Close())
				require.NoError(t, <-closed)
			})
		})
	}
}

// The other way round: the server closes first, and the dialer, reading
// io.EOF, closes at once, and its acknowledgement is lost. A dialer's
// socket closes with its connection, so nothing is left to answer the
// server's FIN, sent again: not an acknowledgement, but no RESET either.
// The server's Close waits out Linger, and returns nil.
func TestCloseWhenDialerClosedSecondAndItsAckLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		n := newMemNet()
		srv := &tap{PacketConn: n.faulty(t, "server", slowLink)}
		cli := &tap{PacketConn: n.faulty(t, "client", slowLink)}
		client, server := openPipe(t, srv, cli, reliable.Config{Seed: 1})
		synctest.Wait()

		settled := cli.ackWritten()
		cli.setDrop(func(w reliable.Wire) bool {
			return (w.Type == "ACK" || w.Type == "DATA") && w.Ack != settled
		})
		closed := make(chan error, 1)
		start := time.Now()
		go func() {
			if err := server.Send(ctx, []byte("bye")); err != nil {
				closed <- err
				return
			}
			closed <- server.Close()
		}()
		got, err := client.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, "bye", string(got))
		_, err = client.Recv(ctx)
		require.ErrorIs(t, err, io.EOF)
		require.NoError(t, client.Close())
		require.NotEmpty(t, cli.lost(), "the acknowledgement was lost")

		require.NoError(t, <-closed, "Linger ran out: not an error")
		assert.Equal(t, reliable.DefaultLinger, time.Since(start))
		assert.Zero(t, srv.resetsRead())
	})
}
