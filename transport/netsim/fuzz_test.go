package netsim_test

import (
	"context"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// FuzzNetwork runs scripts of sends, faults, partitions, crashes and
// closes, in virtual time. Whatever the script, nothing panics or hangs,
// and every copy of every message is accounted for once the network is
// closed.
//
//	go test -run='^$' -fuzz=FuzzNetwork -fuzztime=90s ./transport/netsim/
func FuzzNetwork(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 2, 3, 4, 0, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add([]byte{8, 200, 0, 1, 0, 2, 10, 50, 4, 1, 0, 1, 5, 1, 1, 9})
	f.Add([]byte{2, 1, 0, 1, 3, 6, 2, 9, 0, 7, 2, 11, 1, 0, 12, 10, 255})
	f.Fuzz(func(t *testing.T, script []byte) {
		synctest.Test(t, func(t *testing.T) { runScript(t, script) })
	})
}

func runScript(t *testing.T, script []byte) {
	nodes := []string{"a", "b", "c"}
	n := netsim.NewNetwork(int64(len(script)), netsim.WithWindow(256), netsim.WithPacketBuffer(256))
	ctx := context.Background()
	listeners := map[string]transport.Listener{}
	packets := map[string]net.PacketConn{}
	var conns []transport.Conn
	open := func(node string) { // what a restarted node opens again
		if l, err := n.Listen(node); err == nil {
			listeners[node] = l
		}
		if pc, err := n.ListenPacket(node); err == nil {
			packets[node] = pc
		}
	}
	for _, node := range nodes {
		open(node)
	}

	next := func(i *int) int { // the next byte of the script, as an argument
		*i++
		if *i < len(script) {
			return int(script[*i])
		}
		return 0
	}
	for i := 0; i < len(script); i++ {
		op := script[i] % 16
		switch op {
		case 0, 1: // send on a conn, giving up after a virtual second
			if len(conns) > 0 {
				c := conns[next(&i)%len(conns)]
				short, cancel := context.WithTimeout(ctx, time.Second)
				_ = c.Send(short, make([]byte, next(&i)))
				cancel()
			}
		case 2: // receive from a conn, if anything is there within a millisecond
			if len(conns) > 0 {
				short, cancel := context.WithTimeout(ctx, time.Millisecond)
				_, _ = conns[next(&i)%len(conns)].Recv(short)
				cancel()
			}
		case 3: // dial
			from, to := nodes[next(&i)%3], nodes[next(&i)%3]
			short, cancel := context.WithTimeout(ctx, time.Second)
			c, err := n.Dial(short, from, to)
			cancel()
			if err == nil {
				conns = append(conns, c)
				if s, err := listeners[to].Accept(ctx); err == nil {
					conns = append(conns, s)
				}
			}
		case 4:
			n.Partition(nodes[:next(&i)%3], nodes[2:])
		case 5:
			n.Heal()
		case 6:
			n.Crash(nodes[next(&i)%3])
		case 7:
			node := nodes[next(&i)%3]
			n.Restart(node)
			open(node)
		case 8:
			d := next(&i)
			require.NoError(t, n.SetDefaultFaults(transport.Faults{
				Drop: float64(d%4) / 4, Duplicate: float64(d/4%4) / 4, Jitter: time.Duration(d/16) * time.Millisecond,
				Reorder: 0.1, Corrupt: 0.1, Truncate: 0.1,
			}))
		case 9: // a datagram
			from, to := nodes[next(&i)%3], nodes[next(&i)%3]
			if pc := packets[from]; pc != nil {
				_, _ = pc.WriteTo(make([]byte, next(&i)), netsim.Addr(to))
			}
		case 10:
			time.Sleep(time.Duration(next(&i)) * time.Millisecond)
		case 11:
			if len(conns) > 0 {
				_ = conns[next(&i)%len(conns)].Close()
			}
		case 12:
			node := nodes[next(&i)%3]
			if next(&i)%2 == 0 {
				n.Disconnect(node)
			} else {
				n.Reconnect(node)
			}
		case 13:
			from, to := nodes[next(&i)%3], nodes[next(&i)%3]
			if next(&i)%2 == 0 {
				n.CutLink(from, to)
			} else {
				n.HealLink(from, to)
			}
		case 14:
			if next(&i)%2 == 0 {
				n.Hold()
			} else {
				n.Resume()
			}
		case 15:
			n.Release(next(&i) % 4)
		}
	}
	require.NoError(t, n.Close())
	for _, from := range nodes {
		for _, to := range nodes {
			s := n.LinkStats(from, to)
			assert.Equal(t, s.Sent+s.Duplicated, s.Delivered+s.Dropped, "%s -> %s: %+v", from, to, s.Counts)
		}
	}
}
