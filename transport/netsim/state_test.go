package netsim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

func TestStateShowsNodesLinksAndCuts(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	lossy := transport.Faults{Drop: 0.25}
	slow := transport.Faults{Delay: time.Millisecond}
	require.NoError(t, n.SetDefaultFaults(slow))
	a, _ := pipe(t, n, "a", "b")
	require.NoError(t, a.Send(testContext(t), []byte("hi")))
	require.NoError(t, n.SetFaults("b", "a", lossy))
	n.Crash("c")
	n.Disconnect("d")
	n.CutLink("b", "a")
	n.Partition([]string{"b", "a"}, []string{"c"})

	s := n.State()
	assert.Equal(t, []netsim.NodeState{
		{Name: "a", Conns: 1},
		{Name: "b", Listening: false, Conns: 1}, // pipe closed its listener
		{Name: "c", Crashed: true},
		{Name: "d", Disconnected: true},
	}, s.Nodes)
	assert.Equal(t, [][]string{{"a", "b"}, {"c"}}, s.Groups, "each group sorted")
	assert.Equal(t, slow, s.Defaults)
	assert.False(t, s.Holding)

	links := map[string]netsim.LinkState{}
	for _, l := range s.Links {
		links[l.From+">"+l.To] = l
	}
	ab, ba := links["a>b"], links["b>a"]
	assert.Equal(t, slow, ab.Faults)
	assert.False(t, ab.OwnFaults)
	assert.False(t, ab.Cut, "a and b are on one side")
	assert.EqualValues(t, 1, ab.Stats.Sent)
	assert.Equal(t, lossy, ba.Faults)
	assert.True(t, ba.OwnFaults)
	assert.True(t, ba.Cut)
	assert.True(t, ba.CutLink)
	assert.True(t, links["a>c"].Cut, "across the partition")
	assert.True(t, links["a>d"].Cut, "d is disconnected")
	for i := 1; i < len(s.Links); i++ {
		prev, cur := s.Links[i-1], s.Links[i]
		assert.Less(t, prev.From+"\x00"+prev.To, cur.From+"\x00"+cur.To, "links in order")
	}

	n.Heal()
	s = n.State()
	assert.Nil(t, s.Groups)
	for _, l := range s.Links {
		if l.To != "d" && l.From != "d" {
			assert.False(t, l.Cut, "%s > %s after Heal", l.From, l.To)
		}
	}
}
