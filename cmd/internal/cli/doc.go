// Package cli is what the server programs under cmd/ share: the shape of a
// program (a run function that a test can call, and Main that gives it the
// process's arguments and a context ending on SIGINT or SIGTERM), the
// cluster file that names the machines of a deployment, the TLS flags, the
// HTTP server of the status endpoint, and for the programs that run a raft
// server (raftnode, kvraftserver, lockraftserver) their flags (RaftFlags:
// numbered peers raft1, raft2, ..., a write-ahead log), their status
// (RaftStatus), the printing of elections (WatchRaft) and the hand-over on
// shutdown (HandOver).
//
// Every program keeps its logic in a RunFunc:
//
//	func main() { cli.Main("lockserver", run) }
//
//	func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
//		fs := flag.NewFlagSet("lockserver", flag.ContinueOnError)
//		... flags ...
//		if ok, err := cli.Parse(fs, args); !ok {
//			return err // nil after -h
//		}
//		... serve until ctx ends, then shut down gracefully ...
//	}
//
// A server announces each address it serves on with one line on stdout,
// "NAME: listening on ADDR" and "NAME: status on http://ADDR/status", so
// that a script or a test that started it on port 0 learns the port.
package cli
