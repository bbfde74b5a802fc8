package lock_test

import (
	"testing"
	"time"

	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/lock/locktest"
)

// The single server and the replicated service pass the same suite.

func TestConformanceSingleServer(t *testing.T) {
	locktest.Run(t, func(t *testing.T, ttl, lockDelay time.Duration) locktest.Service {
		f := newFixture(t, lock.Config{TTL: ttl, LockDelay: lockDelay})
		return singleService{f}
	})
}

func TestConformanceReplicated(t *testing.T) {
	locktest.Run(t, func(t *testing.T, ttl, lockDelay time.Duration) locktest.Service {
		c := newCluster(t, 1, 3, lock.RaftConfig{TTL: ttl, LockDelay: lockDelay})
		return replicatedService{c}
	})
}

type singleService struct{ f *fixture }

func (s singleService) Caller(t *testing.T) lock.Caller { return s.f.rpcClient(t.Context()) }
func (s singleService) Locks() []lock.LockInfo          { return s.f.server().Locks() }

type replicatedService struct{ c *cluster }

func (s replicatedService) Caller(*testing.T) lock.Caller { return s.c.caller() }
func (s replicatedService) Locks() []lock.LockInfo        { return s.c.servers[s.c.leader()].Locks() }
