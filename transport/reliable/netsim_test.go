package reliable_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
	"github.com/distsys-kit/distsys/transport/reliable"
)

// netsimPipe connects node "client" to node "server" of a simulated
// network, over its packet sockets. Call it inside a synctest bubble.
func netsimPipe(t *testing.T, n *netsim.Network) (client, server *reliable.Conn) {
	t.Helper()
	return netsimPipeWith(t, n, reliable.Config{})
}

// netsimPipeWith is netsimPipe with cfg for both ends (seeded 1 and 2).
func netsimPipeWith(t *testing.T, n *netsim.Network, cfg reliable.Config) (client, server *reliable.Conn) {
	t.Helper()
	ctx := t.Context()
	spc, err := n.ListenPacket("server")
	require.NoError(t, err)
	scfg, ccfg := cfg, cfg
	scfg.Seed, ccfg.Seed = 1, 2
	l, err := reliable.ListenPacket(spc, scfg)
	require.NoError(t, err)
	defer l.Close()
	cpc, err := n.ListenPacket("client")
	require.NoError(t, err)
	accepted := make(chan transport.Conn, 1)
	go func() {
		c, err := l.Accept(ctx)
		if err != nil {
			t.Errorf("accept: %v", err)
		}
		accepted <- c
	}()
	client, err = reliable.DialPacket(ctx, cpc, netsim.Addr("server"), ccfg)
	require.NoError(t, err)
	s := <-accepted
	require.NotNil(t, s)
	server = s.(*reliable.Conn)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestExactlyOnceInOrderOverNetsim(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(5)
		defer n.Close()
		n.LogSeedOnFailure(t)
		require.NoError(t, n.SetDefaultFaults(badNetwork))
		client, server := netsimPipe(t, n)
		exchange(t, client, server, messagesEachWay()/5)
		assert.Positive(t, client.Stats().Retransmissions, "retransmissions")
		require.NoError(t, client.Close())
		require.NoError(t, server.Close())
	})
}

func TestPeerCrashOverNetsimDetectedWithinBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		n := netsim.NewNetwork(6)
		defer n.Close()
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: time.Millisecond}))
		client, server := netsimPipe(t, n)
		require.NoError(t, server.Send(ctx, []byte("last words")))
		_, err := client.Recv(ctx)
		require.NoError(t, err)
		time.Sleep(10 * time.Millisecond) // virtual: the last ACK lands

		crashed := time.Now()
		n.Crash("server")
		_, err = client.Recv(ctx)
		require.ErrorIs(t, err, reliable.ErrPeerLost)
		took := time.Since(crashed)
		limit, epoch := time.Duration(reliable.DefaultEpochLimit), reliable.DefaultEpochLength
		assert.GreaterOrEqual(t, took, limit*epoch-10*time.Millisecond)
		assert.LessOrEqual(t, took, (limit+1)*epoch)
	})
}
