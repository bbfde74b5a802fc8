package clitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
)

// Replica is one replica of a replicated service's program (kvraftserver,
// lockraftserver: programs that run cli.RunReplica) running in a test.
type Replica struct {
	*Proc
	Args []string // its command line, to start it again
	HTTP string   // the address of its status endpoint
	run  cli.RunFunc
}

// Start starts r (again) with its Args, and waits for its status endpoint.
func (r *Replica) Start(tb testing.TB) {
	tb.Helper()
	r.Proc = Start(tb, r.run, r.Args...)
	r.HTTP = r.Addr(tb, "status on")
}

// StartReplicas starts n replicas of run on 127.0.0.1, each with its own
// data directory, naming them raftN in -peers and serving clients at
// PREFIXN, with extra flags added. It returns them and their client
// addresses.
func StartReplicas(tb testing.TB, run cli.RunFunc, prefix string, n int, extra ...string) ([]*Replica, []string) {
	tb.Helper()
	addrs := FreeAddrs(tb, 2*n)
	var peers []string
	for i := range n {
		peers = append(peers, fmt.Sprintf("raft%d=%s", i+1, addrs[i]), fmt.Sprintf("%s%d=%s", prefix, i+1, addrs[n+i]))
	}
	dir := tb.TempDir()
	rs := make([]*Replica, n)
	for i := range rs {
		rs[i] = &Replica{run: run, Args: append([]string{"-id", fmt.Sprint(i + 1), "-data", filepath.Join(dir, fmt.Sprint(i+1)),
			"-peers", strings.Join(peers, ","), "-raft-listen", addrs[i], "-listen", addrs[n+i], "-http", "127.0.0.1:0"}, extra...)}
		rs[i].Start(tb)
	}
	return rs, addrs[n:]
}

var leaderRE = regexp.MustCompile(`role=\w+ leader=(\d+)$`)

// Leader waits until r's output (cli.WatchRaft's lines) names a leader
// other than replica not (-1: any), and returns its index: 0 for raft1.
func (r *Replica) Leader(tb testing.TB, not int) int {
	tb.Helper()
	line := r.Stdout().WaitMatch(tb, "a leader", func(l string) bool {
		m := leaderRE.FindStringSubmatch(l)
		return m != nil && m[1] != "0" && m[1] != fmt.Sprint(not+1)
	})
	var id int
	_, err := fmt.Sscan(leaderRE.FindStringSubmatch(line)[1], &id)
	require.NoError(tb, err)
	return id - 1
}

// Status fetches r's GET /status into v. It may be called from any
// goroutine.
func (r *Replica) Status(v any) error {
	hc := &http.Client{Timeout: wait, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + r.HTTP + "/status")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /status: %s", resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// ServeOneReplica serves a replicated service on a cluster of one replica
// (it elects itself), on 127.0.0.1, for a client program's tests: start
// makes the server from a raft config and a client listener. It returns
// the client address; with opts (TLS), clients must use them.
func ServeOneReplica(tb testing.TB, start func(raft.NodeConfig, transport.Listener) (io.Closer, error), opts ...transport.Option) string {
	tb.Helper()
	rl, err := transport.ListenTCP("127.0.0.1:0")
	require.NoError(tb, err)
	cl, err := transport.ListenTCP("127.0.0.1:0", opts...)
	require.NoError(tb, err)
	srv, err := start(raft.NodeConfig{
		Config:   raft.Config{ID: 1, Storage: raft.NewMemoryStorage()},
		Addrs:    map[uint64]string{1: rl.Addr().String()},
		Listener: rl,
		Dialer:   transport.NewTCPDialer(),
	}, cl)
	require.NoError(tb, err)
	tb.Cleanup(func() { srv.Close() })
	return cl.Addr().String()
}
