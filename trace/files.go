package trace

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The files WriteFiles writes, in the directory it is given.
const (
	HTMLFile   = "trace.html"       // the space-time diagram: open it in a browser
	ShiVizFile = "trace.shiviz.log" // the ShiViz log: upload it to ShiViz
	JSONFile   = "trace.jsonl"      // the events as JSON lines
)

// WriteFiles writes the trace recorded so far to dir, creating dir if
// needed: HTMLFile, ShiVizFile and JSONFile, all rendered from the same
// events. It is what a program's -trace DIR flag calls at the end of a run.
func (r *Recorder) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	events := r.Events()
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{HTMLFile, func(w io.Writer) error {
			return writeHTML(w, newPage(r.title, events, r.Omitted(), r.routine))
		}},
		{ShiVizFile, func(w io.Writer) error { return WriteShiViz(w, events) }},
		{JSONFile, func(w io.Writer) error { return WriteJSON(w, events) }},
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// TraceDirEnv names the environment variable that sets where WriteOnFailure
// puts its directories. Unset, they go under os.TempDir()/distsys-trace.
const TraceDirEnv = "DISTSYS_TRACE_DIR"

// TB is the part of testing.TB that WriteOnFailure uses. *testing.T and
// *testing.B satisfy it; it is an interface of its own, as goleak's
// TestingT is, so that programs importing trace do not link the testing
// package.
type TB interface {
	Helper()
	Name() string
	Failed() bool
	Cleanup(func())
	Logf(format string, args ...any)
}

// WriteOnFailure arranges for the trace to be written when tb's test ends
// failed: at cleanup, if tb.Failed(), it writes the files of WriteFiles to
// a directory named after the test and the seed (for example
// /tmp/distsys-trace/TestLockUnderPartition-seed42) and logs where it is.
// A test that passes writes nothing. Call it once per test, after the
// Recorder is made; seed is the seed of the test's network or faults, so
// that the directory also says how to replay the run.
func (r *Recorder) WriteOnFailure(tb TB, seed int64) {
	tb.Helper()
	tb.Cleanup(func() {
		if !tb.Failed() {
			return
		}
		base := os.Getenv(TraceDirEnv)
		if base == "" {
			base = filepath.Join(os.TempDir(), "distsys-trace")
		}
		dir := filepath.Join(base, fmt.Sprintf("%s-seed%d", safeFileName(tb.Name()), seed))
		if err := r.WriteFiles(dir); err != nil {
			tb.Logf("trace: could not write the trace of this failed test: %v", err)
			return
		}
		tb.Logf("trace: this failed test's trace is in %s (open %s in a browser)", dir, filepath.Join(dir, HTMLFile))
	})
}

// safeFileName turns a test name ("TestX/sub_case#01") into one directory
// name, without separators or characters that shells and file systems
// dislike.
func safeFileName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
}
