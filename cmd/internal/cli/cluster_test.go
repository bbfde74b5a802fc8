package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseClusterReadsPeersInOrder(t *testing.T) {
	file := `# the course cluster
lock = 10.0.0.1:7070   # the lock server

kv=10.0.0.2:7080
coordinator = lab-3.example.edu:7090
	n_1.a-b = [fe80::1]:7000
`
	c, err := ParseCluster("cluster.conf", strings.NewReader(file))
	require.NoError(t, err)
	assert.Equal(t, []Peer{
		{"lock", "10.0.0.1:7070"},
		{"kv", "10.0.0.2:7080"},
		{"coordinator", "lab-3.example.edu:7090"},
		{"n_1.a-b", "[fe80::1]:7000"},
	}, c.Peers)
}

func TestParseClusterAcceptsAnEmptyFile(t *testing.T) {
	c, err := ParseCluster("empty", strings.NewReader("\n# nothing yet\n"))
	require.NoError(t, err)
	assert.Empty(t, c.Peers)
}

func TestParseClusterErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{"no equals", "a=h:1\nlock 10.0.0.1:7070\n", `c.conf:2: want id=host:port, got "lock 10.0.0.1:7070"`},
		{"empty id", "=h:1", "c.conf:1: empty peer id"},
		{"bad id char", "a b=h:1", `c.conf:1: peer id "a b": ' ' is not allowed`},
		{"long id", strings.Repeat("x", 65) + "=h:1", "c.conf:1: peer id of 65 bytes, limit is 64"},
		{"no port", "a=10.0.0.1", `c.conf:1: peer a: address "10.0.0.1": want host:port`},
		{"no host", "a=:7070", `c.conf:1: peer a: address ":7070" has no host`},
		{"port zero", "a=h:0", `port "0" is not a number from 1 to 65535`},
		{"port too big", "a=h:65536", `port "65536" is not a number from 1 to 65535`},
		{"port name", "a=h:http", `port "http" is not a number`},
		{"host with space", "a=[x y]:1", `host "x y" is not a host name or IP`},
		{"duplicate id", "a=h:1\n\na=h:2", `c.conf:3: peer "a" is already on line 1`},
		{"duplicate address", "a=h:1\nb=h:1", `c.conf:2: address h:1 is already on line 1`},
		{"long line", "a=h:1\n" + strings.Repeat("#", 2000), "c.conf:2: line longer than 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCluster("c.conf", strings.NewReader(tt.give))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParseClusterBoundsThePeers(t *testing.T) {
	var b strings.Builder
	for i := range maxClusterPeers + 1 {
		fmt.Fprintf(&b, "p%d=h:%d\n", i, 1+i)
	}
	_, err := ParseCluster("big", strings.NewReader(b.String()))
	require.ErrorContains(t, err, "big:1001: more than 1000 peers")
}

func TestLookup(t *testing.T) {
	c := Cluster{Peers: []Peer{{"a", "h:1"}, {"b", "h:2"}}}
	p, err := c.Lookup("b")
	require.NoError(t, err)
	assert.Equal(t, Peer{"b", "h:2"}, p)
	_, err = c.Lookup("c")
	require.ErrorContains(t, err, `no peer "c" in the cluster file; it has ["a" "b"]`)
}

func TestListenAddrKeepsOnlyThePort(t *testing.T) {
	assert.Equal(t, ":7070", Peer{"a", "10.0.0.1:7070"}.ListenAddr())
	assert.Equal(t, ":7000", Peer{"b", "[fe80::1]:7000"}.ListenAddr())
}

// FuzzParseCluster checks that any input gives peers or an error, never a
// panic, and that what parses is valid and survives Format.
func FuzzParseCluster(f *testing.F) {
	f.Add("a=h:1\n# c\nb = 10.0.0.2:7070 # x\n")
	f.Add("=:\n")
	f.Add("a=[::1]:65535\na=[::1]:1")
	f.Add("x=y=z:1")
	f.Add("a=h:0x10\r\nb=\x00:1")
	f.Fuzz(func(t *testing.T, file string) {
		c, err := ParseCluster("fuzz", strings.NewReader(file))
		if err != nil {
			return
		}
		require.LessOrEqual(t, len(c.Peers), maxClusterPeers)
		for _, p := range c.Peers {
			require.NoError(t, checkID(p.ID))
			require.NoError(t, checkAddr(p.Addr))
		}
		var out bytes.Buffer
		require.NoError(t, c.Format(&out))
		again, err := ParseCluster("formatted", &out)
		require.NoError(t, err, "formatted:\n%s", out.String())
		assert.Equal(t, c.Peers, again.Peers)
	})
}
