package devcert

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// handshake runs a TLS handshake over loopback TCP (whose buffers let
// either side write its alert without waiting for the other to read) and
// returns both sides' errors.
func handshake(t *testing.T, server, client *tls.Config) (serverErr, clientErr error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		nc, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		s := tls.Server(nc, server)
		defer s.Close()
		done <- s.Handshake()
	}()
	nc, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	c := tls.Client(nc, client)
	defer c.Close()
	clientErr = c.Handshake()
	return <-done, clientErr
}

func TestHandshakes(t *testing.T) {
	set, err := New()
	require.NoError(t, err)
	other, err := New()
	require.NoError(t, err)

	tests := []struct {
		name       string
		server     *tls.Config
		client     *tls.Config
		serverFail bool
		clientFail bool
	}{
		{"server auth", set.Server, set.Client, false, false},
		{"mutual", set.MutualServer, set.MutualClient, false, false},
		{"mutual server refuses a client without a certificate", set.MutualServer, set.Client, true, false},
		{"client refuses another authority's server", other.Server, set.Client, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serr, cerr := handshake(t, tt.server, tt.client)
			assert.Equal(t, tt.serverFail, serr != nil, "server: %v", serr)
			if tt.clientFail {
				assert.Error(t, cerr)
			}
		})
	}
}
