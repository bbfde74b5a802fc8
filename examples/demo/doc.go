// Package demo holds the few lines every example under examples/ shares:
// the main function that runs an example and turns its error into an exit
// code, the flags for network faults, the seed and the reply timeout, the
// recorder behind the -trace DIR flag, the live dashboard behind
// -dashboard ADDR, and Settle, which waits for a
// simulated network to fall quiet before an example prints its counters.
// Its subpackage demotest checks an example's command line in its tests.
//
// Every example has the same shape, which a test can drive:
//
//	func main() { demo.Main("kv", run) }
//
//	func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
//		fs := flag.NewFlagSet("kv", flag.ContinueOnError)
//		fs.SetOutput(stderr)
//		var faults transport.Faults
//		demo.FaultFlags(fs, &faults)                 // -drop -dup -delay -jitter -reorder -seed
//		if ok, err := demo.Parse(fs, args); !ok {
//			return err                               // nil after -h, ErrUsage after a bad flag
//		}
//		tr := demo.NewTracer(traceDir, "kv")         // -trace DIR, a no-op without it
//		if err := tr.Prepare(); err != nil {         // a bad -trace fails now, not after the run
//			return err
//		}
//		...
//		return tr.Write(stdout)
//	}
//
// It is a public package so that an example copied out of this repository
// still builds: import it from github.com/distsys-kit/distsys/examples/demo.
package demo
