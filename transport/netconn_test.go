package transport_test

import (
	"bufio"
	"errors"
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

func netConnPair(t *testing.T, maxMessage int) (a, b net.Conn) {
	x, y := net.Pipe()
	a = transport.NewNetConn(transport.NewConn(x), maxMessage)
	b = transport.NewNetConn(transport.NewConn(y), maxMessage)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestNetConnCarriesAByteStream(t *testing.T) {
	a, b := netConnPair(t, 8) // tiny messages: writes are split
	go func() {
		io.WriteString(a, "first line\nsecond ")
		io.WriteString(a, "line\nthird line\n")
		a.Close()
	}()
	sc := bufio.NewScanner(b)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, []string{"first line", "second line", "third line"}, lines)
}

func TestNetConnReadDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, b := netConnPair(t, 0)
		start := time.Now()
		require.NoError(t, b.SetReadDeadline(start.Add(2*time.Second)))
		_, err := b.Read(make([]byte, 10))
		require.Error(t, err)
		assert.True(t, os.IsTimeout(err))
		var ne net.Error
		require.True(t, errors.As(err, &ne))
		assert.True(t, ne.Timeout())
		assert.Equal(t, 2*time.Second, time.Since(start))

		// A deadline in the past fails at once; clearing it works again.
		require.NoError(t, b.SetReadDeadline(time.Now().Add(-time.Second)))
		_, err = b.Read(make([]byte, 10))
		assert.True(t, os.IsTimeout(err))
	})
}

func TestNetConnDeadlineExtendedWhileBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := netConnPair(t, 0)
		start := time.Now()
		require.NoError(t, b.SetReadDeadline(start.Add(time.Second)))
		done := make(chan error, 1)
		go func() {
			_, err := b.Read(make([]byte, 10))
			done <- err
		}()
		synctest.Wait() // the Read is blocked
		require.NoError(t, b.SetReadDeadline(start.Add(5*time.Second)))
		time.Sleep(3 * time.Second)
		_, err := a.Write([]byte("made it"))
		require.NoError(t, err)
		require.NoError(t, <-done, "the extended deadline applied to the blocked Read")
	})
}

func TestNetConnCloseUnblocksRead(t *testing.T) {
	_, b := netConnPair(t, 0)
	done := make(chan error, 1)
	go func() {
		_, err := b.Read(make([]byte, 1))
		done <- err
	}()
	require.NoError(t, b.Close())
	require.ErrorIs(t, <-done, net.ErrClosed)
}
