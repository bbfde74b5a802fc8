package primarybackup_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/primarybackup"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// copyTimeout is the primary's copy timeout in the tests.
const copyTimeout = 50 * time.Millisecond

// pair is a primary and a backup on a simulated network, with a client
// next to each: "primary", "backup", "client".
type pair struct {
	net     *netsim.Network
	primary *primarybackup.Primary
	backup  *primarybackup.Backup
	toP     *rpc.Client // the client's calls to the primary
	toB     *rpc.Client // the client's calls to the backup
}

// newPair starts a pair with cfg; everything stops at the test's end.
func newPair(t *testing.T, cfg primarybackup.Config) *pair {
	t.Helper()
	cfg.CopyTimeout = copyTimeout
	n := netsim.NewNetwork(1)
	t.Cleanup(func() { n.Close() })
	p := &pair{net: n, backup: &primarybackup.Backup{}}
	serve(t, n, "backup", p.backup)
	p.primary = primarybackup.NewPrimary(dial(t, n, "primary", "backup"), cfg)
	t.Cleanup(func() { p.primary.Close() })
	serve(t, n, "primary", p.primary)
	p.toP, p.toB = dial(t, n, "client", "primary"), dial(t, n, "client", "backup")
	return p
}

// serve serves rcvr on node.
func serve(t *testing.T, n *netsim.Network, node string, rcvr any) {
	t.Helper()
	l, err := n.Listen(node)
	require.NoError(t, err)
	srv := rpc.NewServer(rpc.WithErrors(primarybackup.ErrNotReplicated))
	require.NoError(t, srv.Register(rcvr))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-served })
}

// dial connects from to to, with at-most-once retries.
func dial(t *testing.T, n *netsim.Network, from, to string) *rpc.Client {
	t.Helper()
	c, err := rpc.Dial(context.Background(), to, rpc.WithDialer(n.Dialer(from)),
		rpc.WithErrors(primarybackup.ErrNotReplicated), rpc.WithRetry(rpc.RetryPolicy{Interval: copyTimeout / 4}))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// put writes key=value at the primary, waiting at most a second.
func (p *pair) put(key, value string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return p.toP.Call(ctx, "Primary.Put", &primarybackup.PutArgs{Key: key, Value: value}, nil)
}

// backupGet reads key at the backup.
func (p *pair) backupGet(t *testing.T, key string) primarybackup.GetReply {
	t.Helper()
	var r primarybackup.GetReply
	require.NoError(t, p.toB.Call(context.Background(), "Backup.Get", &key, &r))
	return r
}

// synced waits until a copy made from now on has been confirmed.
func (p *pair) synced(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*copyTimeout)
	defer cancel()
	require.NoError(t, p.primary.WaitSynced(ctx, p.primary.Confirmations()))
}
