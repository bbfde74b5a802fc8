package reliable_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/reliable"
)

type Arith struct{}

type Pair struct{ A, B int }

func (Arith) Add(ctx context.Context, args *Pair, reply *int) error {
	*reply = args.A + args.B
	return nil
}

// rpc runs over this package unchanged, here across a lossy link.
func TestRPCOverReliableUDP(t *testing.T) {
	ctx := t.Context()
	l, err := reliable.ListenPacket(faultyUDP(t, badNetwork, 1), reliable.Config{})
	require.NoError(t, err)
	srv := rpc.NewServer()
	require.NoError(t, srv.Register(Arith{}))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	conn, err := reliable.DialPacket(ctx, faultyUDP(t, badNetwork, 2), l.Addr(), reliable.Config{})
	require.NoError(t, err)
	c := rpc.NewClient(conn)
	for i := range 50 {
		var sum int
		require.NoError(t, c.Call(ctx, "Arith.Add", &Pair{i, 1000}, &sum))
		assert.Equal(t, i+1000, sum)
	}
	require.NoError(t, c.Close())
	require.NoError(t, srv.Close())
	require.ErrorIs(t, <-served, rpc.ErrServerClosed)
}
