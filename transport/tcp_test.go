package transport_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

// rawPeer accepts one framed conn from a raw TCP client that the test
// drives byte by byte.
func rawPeer(t *testing.T, opts ...transport.Option) (server transport.Conn, raw net.Conn) {
	t.Helper()
	l, err := transport.ListenTCP("127.0.0.1:0", opts...)
	require.NoError(t, err)
	defer l.Close()
	raw, err = net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	server, err = l.Accept(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { server.Close(); raw.Close() })
	return server, raw
}

func TestPeerAnnouncingOversizedMessageIsCutOff(t *testing.T) {
	server, raw := rawPeer(t, transport.WithMaxMessageSize(1024))
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 1<<30) // a gigabyte, says the peer
	_, err := raw.Write(hdr[:])
	require.NoError(t, err)

	_, err = server.Recv(context.Background())
	require.ErrorIs(t, err, transport.ErrMessageTooLarge)
	_, err = server.Recv(context.Background())
	require.ErrorIs(t, err, transport.ErrMessageTooLarge, "the error sticks")

	// The server hung up on the peer.
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = raw.Read(make([]byte, 1))
	require.Error(t, err)
}

// An oversized frame that arrives with a good message, in the same read, is
// found by the Recv after the one that returns the message, without
// reading: that Recv cuts the peer off too.
func TestOversizedFrameAlreadyReadIsCutOff(t *testing.T) {
	server, raw := rawPeer(t, transport.WithMaxMessageSize(1024))
	stream := binary.BigEndian.AppendUint32(nil, 5)
	stream = append(stream, "hello"...)
	stream = binary.BigEndian.AppendUint32(stream, 1<<30)
	_, err := raw.Write(stream)
	require.NoError(t, err)

	msg, err := server.Recv(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "hello", string(msg))
	_, err = server.Recv(context.Background())
	require.ErrorIs(t, err, transport.ErrMessageTooLarge)

	// The server hung up on the peer: it reads the end of the stream, not
	// a timeout.
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = raw.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF)
}

func TestStreamEndingMidFrameIsUnexpectedEOF(t *testing.T) {
	server, raw := rawPeer(t)
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 10)
	raw.Write(hdr[:])
	raw.Write([]byte("only5"))
	raw.Close()
	_, err := server.Recv(context.Background())
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestLargeMessageArrivesInPiecesAndWhole(t *testing.T) {
	server, raw := rawPeer(t)
	msg := make([]byte, 300_000)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	frame = append(frame, msg...)
	go func() {
		for len(frame) > 0 { // dribble it out in odd-sized pieces
			n := min(len(frame), 7777)
			raw.Write(frame[:n])
			frame = frame[n:]
		}
	}()
	got, err := server.Recv(context.Background())
	require.NoError(t, err)
	assert.Equal(t, msg, got)
}

func TestDialRefusedIsAClearError(t *testing.T) {
	l, err := transport.ListenTCP("127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	_, err = transport.DialTCP(context.Background(), addr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "transport: dial "+addr)
}

func TestTLSRejectsAnUntrustedServer(t *testing.T) {
	ours, theirs := certs(t), certs(t)
	l, err := transport.ListenTCP("127.0.0.1:0", transport.WithTLS(theirs.Server))
	require.NoError(t, err)
	defer l.Close()
	go func() {
		if c, err := l.Accept(context.Background()); err == nil {
			defer c.Close()
			c.Recv(context.Background())
		}
	}()
	_, err = transport.DialTCP(context.Background(), l.Addr().String(), transport.WithTLS(ours.Client))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")
}

func TestMutualTLSRejectsAClientWithoutCertificate(t *testing.T) {
	set := certs(t)
	l, err := transport.ListenTCP("127.0.0.1:0", transport.WithTLS(set.MutualServer))
	require.NoError(t, err)
	defer l.Close()
	got := make(chan error, 1)
	go func() {
		c, err := l.Accept(context.Background())
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		_, err = c.Recv(context.Background())
		got <- err
	}()
	c, err := transport.DialTCP(context.Background(), l.Addr().String(), transport.WithTLS(set.Client))
	if err == nil { // TLS 1.3: the client learns of the refusal on its first read
		defer c.Close()
		_, err = c.Recv(context.Background())
	}
	require.Error(t, err)
	serverErr := <-got
	require.Error(t, serverErr)
	assert.Contains(t, serverErr.Error(), "certificate")
}
