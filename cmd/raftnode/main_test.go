package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/cmd/internal/certgen"
	"github.com/distsys-kit/distsys/cmd/internal/clitest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHelp(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	clitest.CheckHelp(t, run, "raftnode", nil, string(readme))
}

func TestUsageErrors(t *testing.T) {
	peers := "raft1=127.0.0.1:7001"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no id", []string{"-data", "d", "-peers", peers}, "-id is required"},
		{"no data", []string{"-id", "1", "-peers", peers}, "-data is required"},
		{"no peers", []string{"-id", "1", "-data", "d"}, "which raft servers? give -config FILE or -peers"},
		{"both", []string{"-id", "1", "-data", "d", "-peers", peers, "-config", "c"}, "with -peers or -config, not both"},
		{"tick", []string{"-id", "1", "-data", "d", "-peers", peers, "-tick", "0s"}, "-tick must be positive"},
		{"arguments", []string{"-id", "1", "-data", "d", "-peers", peers, "x"}, `takes no arguments, only flags (got "x")`},
		{"grace", []string{"-id", "1", "-data", "d", "-peers", peers, "-shutdown-timeout", "-1s"}, "-shutdown-timeout must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clitest.CheckUsageError(t, run, tt.args, tt.want)
		})
	}
}

func TestPeersFromTheClusterFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cluster.conf")
	require.NoError(t, os.WriteFile(file, []byte("lock=10.0.0.9:7070\nraft1=10.0.0.1:7001\nraft2=10.0.0.2:7101\nraft3=10.0.0.3:7001\n"), 0o644))
	cfg, err := parse([]string{"-id", "2", "-data", "d", "-config", file}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, map[uint64]string{1: "10.0.0.1:7001", 2: "10.0.0.2:7101", 3: "10.0.0.3:7001"}, cfg.raft.Addrs)
	assert.Equal(t, ":7101", cfg.raft.Listen, "raft2's port")

	_, err = parse([]string{"-id", "4", "-data", "d", "-config", file}, io.Discard)
	require.ErrorContains(t, err, "cluster.conf: -id 4: no entry raft4")
	_, err = parse([]string{"-id", "1", "-data", "d", "-peers", "raft1=h:1,raftx=h:2"}, io.Discard)
	require.ErrorContains(t, err, `-peers: peer "raftx": after "raft" comes a number`)
}

// node is a raftnode running in the test.
type node struct {
	*clitest.Proc
	args []string
	http string // its status endpoint's address
}

// startCluster starts n servers on 127.0.0.1, each with a data directory
// and a status endpoint, plus the extra flags.
func startCluster(t *testing.T, n int, extra ...string) []*node {
	t.Helper()
	addrs := clitest.FreeAddrs(t, n)
	var peers []string
	for i, a := range addrs {
		peers = append(peers, fmt.Sprintf("raft%d=%s", i+1, a))
	}
	dir := t.TempDir()
	nodes := make([]*node, n)
	for i := range nodes {
		args := append([]string{"-id", fmt.Sprint(i + 1), "-data", filepath.Join(dir, fmt.Sprint(i+1)),
			"-peers", strings.Join(peers, ","), "-raft-listen", addrs[i], "-http", "127.0.0.1:0"}, extra...)
		nodes[i] = &node{args: args}
		nodes[i].start(t)
	}
	return nodes
}

func (nd *node) start(t *testing.T) {
	t.Helper()
	nd.Proc = clitest.Start(t, run, nd.args...)
	nd.http = nd.Addr(t, "status on")
}

var leaderRE = regexp.MustCompile(`role=\w+ leader=(\d+)$`)

// waitLeader waits until nd's output names a leader other than server
// not ("": any), and returns the leader's index in the cluster's nodes.
func waitLeader(t *testing.T, nd *node, not string) int {
	t.Helper()
	line := nd.Stdout().WaitMatch(t, "a leader", func(l string) bool {
		m := leaderRE.FindStringSubmatch(l)
		return m != nil && m[1] != "0" && m[1] != not
	})
	var id int
	_, err := fmt.Sscan(leaderRE.FindStringSubmatch(line)[1], &id)
	require.NoError(t, err)
	return id - 1
}

var hc = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// propose posts line to nd and returns the status code and the answer.
func propose(t *testing.T, nd *node, line string) (int, proposeAnswer) {
	t.Helper()
	resp, err := hc.Post("http://"+nd.http+"/propose", "text/plain", strings.NewReader(line))
	require.NoError(t, err)
	defer resp.Body.Close()
	var a proposeAnswer
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	return resp.StatusCode, a
}

func getStatus(t *testing.T, nd *node) status {
	t.Helper()
	resp, err := hc.Get("http://" + nd.http + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	var s status
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	return s
}

func TestThreeServersReplicateLines(t *testing.T) {
	nodes := startCluster(t, 3)
	l := waitLeader(t, nodes[0], "")
	follower := nodes[(l+1)%3]

	code, a := propose(t, follower, "from a follower")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, uint64(l+1), a.Leader, "a follower names the leader")

	var want []string
	for _, line := range []string{"hello", "a line with \"quotes\""} {
		code, a = propose(t, nodes[l], line+"\n")
		require.Equal(t, http.StatusOK, code, a.Error)
		want = append(want, fmt.Sprintf("applied index=%d term=%d %q", a.Index, a.Term, line))
	}
	for _, nd := range nodes {
		for _, w := range want {
			nd.Stdout().WaitLine(t, w)
		}
	}

	s := getStatus(t, nodes[l])
	assert.Equal(t, "raftnode", s.Program)
	assert.Equal(t, "leader", s.Role)
	assert.Equal(t, uint64(l+1), s.Leader)
	assert.Equal(t, uint64(2), s.Lines)
	assert.Equal(t, `a line with "quotes"`, s.LastLine)
	assert.Len(t, s.RaftPeers, 2)
	assert.Len(t, s.Peers, 3)
	// A follower prints a line as soon as it applies it, which can be
	// before its acknowledgement reaches the leader: wait for the
	// leader's record of what each follower holds to catch up.
	require.Eventually(t, func() bool {
		s := getStatus(t, nodes[l])
		for _, p := range s.RaftPeers {
			if p.Match != s.LastIndex {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "every follower has the whole log")
	fs := getStatus(t, follower)
	assert.Equal(t, "follower", fs.Role)
	assert.Equal(t, s.Term, fs.Term)
}

func TestProposalErrors(t *testing.T) {
	nodes := startCluster(t, 1)
	waitLeader(t, nodes[0], "")
	code, a := propose(t, nodes[0], "")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, a.Error, "empty line")
	code, a = propose(t, nodes[0], strings.Repeat("x", maxLine+1))
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	assert.Contains(t, a.Error, "a line is at most 65536 bytes")
	code, _ = propose(t, nodes[0], strings.Repeat("x", maxLine))
	assert.Equal(t, http.StatusOK, code, "a line of the limit")
}

func TestRestartedServerReplaysItsLogAndCatchesUp(t *testing.T) {
	nodes := startCluster(t, 3)
	l := waitLeader(t, nodes[0], "")
	code, a := propose(t, nodes[l], "before")
	require.Equal(t, http.StatusOK, code, a.Error)
	f := nodes[(l+1)%3]
	before := fmt.Sprintf("applied index=%d term=%d %q", a.Index, a.Term, "before")
	f.Stdout().WaitLine(t, before)
	require.NoError(t, f.Stop())

	code, a = propose(t, nodes[l], "while it was down")
	require.Equal(t, http.StatusOK, code, a.Error, "two of three commit")
	f.start(t)
	f.Stdout().WaitLine(t, before) // from its own log, on disk
	f.Stdout().WaitLine(t, fmt.Sprintf("applied index=%d term=%d %q", a.Index, a.Term, "while it was down"))
}

func TestLeaderHandsOverOnShutdown(t *testing.T) {
	nodes := startCluster(t, 3)
	l := waitLeader(t, nodes[0], "")
	require.NoError(t, nodes[l].Stop())
	line := nodes[l].Stdout().WaitLine(t, "handed leadership to server")
	assert.True(t, strings.HasSuffix(line, ": ok"), line)
	next := waitLeader(t, nodes[(l+1)%3], fmt.Sprint(l+1))
	assert.NotEqual(t, l, next)
}

func TestMutualTLS(t *testing.T) {
	files, err := certgen.Write(t.TempDir(), nil, time.Hour)
	require.NoError(t, err)
	nodes := startCluster(t, 3, "-tls-cert", files.ServerCert, "-tls-key", files.ServerKey, "-tls-ca", files.CA)
	l := waitLeader(t, nodes[0], "")
	code, a := propose(t, nodes[l], "secret")
	require.Equal(t, http.StatusOK, code, a.Error)
	for _, nd := range nodes {
		nd.Stdout().WaitLine(t, `"secret"`)
	}
	assert.True(t, getStatus(t, nodes[l]).TLS)
}
