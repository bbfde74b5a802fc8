package raft_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
)

// sliceConn is a transport.Conn that is a struct value holding a slice:
// a valid Conn, but not comparable, so not usable as a map key.
type sliceConn struct {
	transport.Conn
	tags []string
}

// sliceListener hands out its Listener's conns as sliceConns.
type sliceListener struct{ transport.Listener }

func (l sliceListener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return sliceConn{Conn: c, tags: []string{"accepted"}}, nil
}

// A Node accepts any transport.Conn, even one whose dynamic type is not
// comparable: keeping it must not panic the node (it would, were the conn
// itself a map key).
func TestNodeAcceptsConnsThatAreNotComparable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, func(cfg *raft.NodeConfig) {
			cfg.Listener = sliceListener{cfg.Listener}
		})
		c.commit("a")
		l := c.waitLeader()
		c.crash(l) // its peers' conns are closed, then replaced on restart
		c.commit("b")
		c.restart(l)
		c.commit("c")
		assert.Equal(t, []string{"a", "b", "c"}, c.commands(l))
	})
}
