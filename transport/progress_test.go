package transport_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

const progressTimeout = 10 * time.Second

// stallingPeer frames the server's end of a net.Pipe with a read-progress
// timeout of progressTimeout and returns it with the raw end, which the
// test writes byte by byte. Call it inside a synctest bubble.
func stallingPeer(t *testing.T) (server transport.Conn, raw net.Conn) {
	x, y := net.Pipe()
	server = transport.NewConn(x, transport.WithReadProgressTimeout(progressTimeout))
	t.Cleanup(func() { server.Close(); y.Close() })
	return server, y
}

// header announces a message of n bytes.
func header(n int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

// write writes b to the raw end of the pipe, which blocks until the
// server's Recv reads it; so it runs in a goroutine of its own.
func write(raw net.Conn, b []byte) {
	go raw.Write(b) // fails once the pipe is closed: nothing to report
}

func TestPeerSilentInTheMiddleOfAMessageIsCutOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		server, raw := stallingPeer(t)
		write(raw, append(header(100), "the first ten"[:10]...))
		start := time.Now()
		_, err := server.Recv(context.Background())
		require.ErrorIs(t, err, transport.ErrPeerStalled)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		assert.Equal(t, progressTimeout, time.Since(start), "cut off after the timeout, in virtual time")

		_, err = server.Recv(context.Background())
		require.ErrorIs(t, err, transport.ErrPeerStalled, "the error sticks")
		_, err = raw.Read(make([]byte, 1))
		require.ErrorIs(t, err, io.EOF, "the server hung up on the peer")
	})
}

func TestSlowPeerThatKeepsSendingIsNotCutOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		server, raw := stallingPeer(t)
		msg := []byte("slow but steady")
		go func() {
			frame := append(header(len(msg)), msg...)
			for i, b := range frame { // a byte every 90% of the timeout
				if i > 0 {
					time.Sleep(progressTimeout * 9 / 10)
				}
				if _, err := raw.Write([]byte{b}); err != nil {
					return
				}
			}
		}()
		got, err := server.Recv(context.Background())
		require.NoError(t, err)
		assert.Equal(t, msg, got)
	})
}

func TestIdleConnBetweenMessagesIsNotCutOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		server, raw := stallingPeer(t)
		go func() {
			time.Sleep(10 * progressTimeout) // idle, owing nothing
			raw.Write(append(header(2), "hi"...))
			time.Sleep(10 * progressTimeout) // idle again, after a message
			raw.Write(append(header(3), "bye"...))
		}()
		for _, want := range []string{"hi", "bye"} {
			got, err := server.Recv(context.Background())
			require.NoError(t, err)
			assert.Equal(t, want, string(got))
		}
	})
}

// A Recv cancelled in the middle of a message returns at once, loses
// nothing, and the read-progress timer starts again with the next Recv.
func TestRecvCancelledMidMessageKeepsItsBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		server, raw := stallingPeer(t)
		write(raw, append(header(6), "hal"...))
		ctx, cancel := context.WithTimeout(context.Background(), progressTimeout/2)
		defer cancel()
		_, err := server.Recv(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)

		write(raw, []byte("ves"))
		got, err := server.Recv(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "halves", string(got))
	})
}

// Close unblocks a Recv waiting in the middle of a message at once, not
// when the read-progress timeout would have, even while Close itself waits
// (its linger) for a send that the peer does not read.
func TestCloseUnblocksRecvMidMessageAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		server, raw := stallingPeer(t)
		require.NoError(t, server.Send(context.Background(), []byte("unread"))) // the writer blocks in the pipe
		write(raw, append(header(6), "hal"...))
		type result struct {
			err  error
			took time.Duration
		}
		done := make(chan result, 1)
		start := time.Now()
		go func() {
			_, err := server.Recv(context.Background())
			done <- result{err, time.Since(start)}
		}()
		synctest.Wait() // Recv has read "hal" and waits for the rest
		require.NoError(t, server.Close())
		r := <-done
		require.ErrorIs(t, r.err, transport.ErrClosed)
		assert.Zero(t, r.took)
	})
}

// A TLS client that connects and never says hello is cut off after the
// read-progress timeout: the handshake is part of what a peer owes. (Over
// real TCP: inside a synctest bubble, the handshake's mutex, which Recv and
// the writer both want, is not a durable block, so time would not move.)
func TestTLSPeerThatNeverFinishesTheHandshakeIsCutOff(t *testing.T) {
	const timeout = 50 * time.Millisecond
	server, _ := rawPeer(t, transport.WithTLS(certs(t).Server), transport.WithReadProgressTimeout(timeout))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a safety net
	defer cancel()
	_, err := server.Recv(ctx)
	require.ErrorIs(t, err, transport.ErrPeerStalled)
	require.ErrorIs(t, server.Send(ctx, []byte("late")), transport.ErrPeerStalled)
}
