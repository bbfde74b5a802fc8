//go:build linux && netns

package nstest

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/cmd/internal/clitest"
	"github.com/distsys-kit/distsys/internal/netns"
)

var measure = flag.Bool("measure", false, "also run the measurements (minutes): lock failover and worker loss across a 20 ms network")

// binDir holds the programs, built once per run of the suite.
var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nstest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// programs are the commands the suite runs.
var programs = []string{"lockserver", "lockclient", "mapreduce", "raftnode", "kvraftserver", "kvclient", "lockraftserver"}

// bin returns the path of the built program name, building them all the
// first time (without the race detector: they are the system under test,
// and their unit tests run with it).
func bin(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		args := []string{"build", "-o", binDir + string(filepath.Separator)}
		for _, p := range programs {
			args = append(args, "github.com/distsys-kit/distsys/cmd/"+p)
		}
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go %v: %w\n%s", args, err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, name)
}

// program is a program running in a node, with its output.
type program struct {
	*netns.Proc
	stdout, stderr *clitest.Output
}

// start runs the program name with args in node nd. Its output is logged
// if the test fails; the end of the test kills it.
func start(t *testing.T, nd *netns.Node, name string, args ...string) *program {
	t.Helper()
	return startWith(t, nd, &clitest.Output{}, name, args...)
}

// startWith is start with a given stdout, which programs may share: each
// line is one write, so lines never interleave.
func startWith(t *testing.T, nd *netns.Node, stdout *clitest.Output, name string, args ...string) *program {
	t.Helper()
	p := &program{stdout: stdout, stderr: &clitest.Output{}}
	cmd := nd.Command(bin(t, name), args...)
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	p.Proc = nd.Start(cmd)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s on %s (%s) stderr:\n%s", name, nd.Name, nd.IP, p.stderr)
		}
	})
	return p
}

// stop sends SIGTERM and waits for the program to exit, at most a while.
func (p *program) stop(t *testing.T) error {
	t.Helper()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.Done():
		return p.Wait()
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit 30 s after SIGTERM")
		return nil
	}
}

// getJSON fetches url from inside node from and decodes its JSON into v.
func getJSON(from *netns.Node, url string, v any) error {
	hc := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
				err = from.Do(func() error {
					c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
					return err
				})
				return c, err
			},
		},
	}
	resp, err := hc.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// poll calls cond every 20 ms until it returns true, failing the test
// after 30 s. (A program in another process can only be watched.)
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setLoss sets loss p on nd's link, and skips the test where the machine
// can make no loss (no netem, no nft).
func setLoss(t *testing.T, nd *netns.Node, p float64) {
	t.Helper()
	err := nd.SetLoss(p)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	require.NoError(t, err)
}
