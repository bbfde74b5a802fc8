// Command mapreduce runs the MapReduce jobs of this directory (a word
// count, an inverted index, a grep) in any of the roles of mapreduce.Main:
// the coordinator, a worker on any machine, the whole job in one process,
// or the sequential oracle.
//
//	mapreduce coordinator -job wordcount -listen :7090 -http :7091 -workers 2 books/*.txt
//	mapreduce worker -coordinator 10.0.0.1:7090          (on every worker machine)
//	mapreduce run -job index books/*.txt                  (all in this process)
//	mapreduce sequential -job wordcount books/*.txt       (the oracle)
//	mapreduce -grep Ishmael coordinator books/*.txt       (and -grep Ishmael on every worker)
//
// Every machine runs this same binary and sees the inputs under the same
// paths (a copy, or a shared directory); map output moves between workers
// over rpc. The program is a thin wrapper: the roles and their flags are
// mapreduce.Main's ("mapreduce ROLE -h" lists them). What it adds is the
// jobs, a cluster file (-config) that tells the coordinator its port and
// the workers where the coordinator is, and -grep.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/mapreduce"
)

func main() { cli.Main("mapreduce", run) }

const about = `Mapreduce runs a MapReduce job in one of four roles:
  coordinator   hand out the tasks to workers, serve the status page (-http)
  worker        run tasks for the coordinator at -coordinator host:port
  run           the whole job in this process
  sequential    the sequential oracle
"mapreduce ROLE -h" lists the role's flags (-job, -out, -nreduce, -listen, ...).
Jobs: wordcount and index; with -grep PATTERN, a grep for PATTERN instead.
Output goes to -out (default mr-out), one file per reduce task.`

// coordinatorID is the coordinator's entry in a cluster file.
const coordinatorID = "coordinator"

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mapreduce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, "mapreduce [-config FILE] [-grep PATTERN] ROLE [role flags] [inputs...]", about)
	var cluster cli.ClusterFlags
	cluster.Register(fs, "")
	pattern := fs.String("grep", "", "run a grep for `pattern` (give every worker the same)")
	if ok, err := cli.Parse(fs, args); !ok {
		return err
	}
	if fs.NArg() == 0 {
		return cli.Usagef(fs, "which role? coordinator, worker, run or sequential")
	}
	if err := cluster.Load(); err != nil {
		return err
	}
	roleArgs, err := withCluster(fs.Args(), cluster)
	if err != nil {
		return err
	}
	err = mapreduce.Main(ctx, roleArgs, jobs(*pattern)...)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the role's usage is printed
	}
	return err
}

// withCluster adds to a role's arguments what the cluster file says, if
// the command line does not: the coordinator listens on the port of the
// entry "coordinator", and workers dial its address.
func withCluster(args []string, cluster cli.ClusterFlags) ([]string, error) {
	if cluster.File == "" {
		return args, nil
	}
	role, rest := args[0], args[1:]
	var add []string
	switch {
	case role == "coordinator" && !hasFlag(rest, "listen"):
		p, err := cluster.Cluster.Lookup(coordinatorID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cluster.File, err)
		}
		add = []string{"-listen", p.ListenAddr()}
	case role == "worker" && !hasFlag(rest, "coordinator"):
		p, err := cluster.Cluster.Lookup(coordinatorID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cluster.File, err)
		}
		add = []string{"-coordinator", p.Addr}
	}
	return slices.Concat([]string{role}, add, rest), nil
}

// hasFlag reports whether args set the flag name, in any of the forms the
// flag package accepts, before the first argument that is not a flag.
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return false
		}
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}
