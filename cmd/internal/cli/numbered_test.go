package cli

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNumberedPicksThePrefixedPeers(t *testing.T) {
	c, err := ParsePeerList("lock=h:1,raft2=h:2,kv1=h:3,raft1=h:4,raft10=h:5")
	require.NoError(t, err)
	got, err := c.Numbered("raft")
	require.NoError(t, err)
	assert.Equal(t, map[uint64]string{1: "h:4", 2: "h:2", 10: "h:5"}, got)
	kv, err := c.Numbered("kv")
	require.NoError(t, err)
	assert.Equal(t, map[uint64]string{1: "h:3"}, kv)
}

func TestNumberedIgnoresTheBarePrefix(t *testing.T) {
	c, err := ParsePeerList("lock=h:1,lock2=h:2,lock1=h:3")
	require.NoError(t, err)
	got, err := c.Numbered("lock")
	require.NoError(t, err)
	assert.Equal(t, map[uint64]string{1: "h:3", 2: "h:2"}, got, "lockserver's entry lock is not a replica")
}

func TestNumberedErrors(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{"not a number", "raft1=h:1,raftx=h:2", `peer "raftx": after "raft" comes a number from 1 up`},
		{"zero", "raft0=h:1", `peer "raft0": after "raft" comes a number`},
		{"same number twice", "raft1=h:1,raft01=h:2", `peer "raft01": number 1 is already in the cluster`},
		{"none", "lock=h:1", "no peer raft1, raft2, ... in the cluster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParsePeerList(tt.give)
			require.NoError(t, err)
			_, err = c.Numbered("raft")
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParsePeerListNamesTheFlag(t *testing.T) {
	_, err := ParsePeerList("raft1=h:1,raft2")
	require.ErrorContains(t, err, `-peers:2: want id=host:port, got "raft2"`)
}

// FuzzNumbered checks that any -peers list gives numbered peers or an
// error, never a panic, and that each number found names an entry of the
// list with that address.
func FuzzNumbered(f *testing.F) {
	f.Add("raft1=h:1,raft2=h:2,kv1=h:3")
	f.Add("raft0=h:1")
	f.Add("raft18446744073709551616=h:1")
	f.Add("raft+1=h:1,raft01=h:2")
	f.Fuzz(func(t *testing.T, list string) {
		c, err := ParsePeerList(list)
		if err != nil {
			return
		}
		got, err := c.Numbered("raft")
		if err != nil {
			return
		}
		require.NotEmpty(t, got)
		for n, addr := range got {
			require.NotZero(t, n)
			found := false
			for _, p := range c.Peers {
				found = found || p.Addr == addr && strings.HasPrefix(p.ID, "raft") && strings.TrimLeft(strings.TrimPrefix(p.ID, "raft"), "0") == strconv.FormatUint(n, 10)
			}
			require.True(t, found, "number %d at %s is no entry of %q", n, addr, list)
		}
	})
}
