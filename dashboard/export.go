package dashboard

import (
	"bytes"
	"fmt"
	"go/format"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// change is one change of the network, and when it was made.
type change struct {
	at time.Duration // since the dashboard started
	e  netsim.Event
}

// record keeps a change of the network for the exported test.
func (d *Dashboard) record(e netsim.Event) {
	if e.Kind == netsim.EventHold || e.Kind == netsim.EventResume {
		return // pausing the class's view is not a fault
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.changes) >= maxChanges {
		d.omitted++
		return
	}
	d.changes = append(d.changes, change{at: e.Time.Sub(d.start), e: e})
}

// serveExport answers GET /api/export with ReplayTest, as a file to save.
func (d *Dashboard) serveExport(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/x-go; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="replay_test.go"`)
	w.Write([]byte(d.ReplayTest()))
}

// ReplayTest returns the Go source of a test that replays the session's
// faults: a network with the same seed, and every change of it made so far
// (partitions, heals, crashes, restarts, cut links, faults; by the page or
// by the program), each at the moment it was made, in virtual time
// (testing/synctest). The system under test starts where the test says so,
// from the code given WithSetup; what it must guarantee is for the test's
// author to check. The source is gofmt'ed. Export on the page downloads it.
func (d *Dashboard) ReplayTest() string {
	d.mu.Lock()
	changes := append([]change(nil), d.changes...)
	omitted := d.omitted
	d.mu.Unlock()

	var body bytes.Buffer
	usesTime, usesTransport := false, false
	var last time.Duration
	for _, c := range changes {
		if wait := c.at - last; wait > 0 {
			fmt.Fprintf(&body, "time.Sleep(%s) // until %s\n", goDuration(wait), c.at.Round(time.Millisecond))
			usesTime = true
		}
		last = c.at
		call, t, tr := goCall(c.e)
		usesTime, usesTransport = usesTime || t, usesTransport || tr
		body.WriteString(call + "\n")
	}
	if omitted > 0 {
		fmt.Fprintf(&body, "// ... and %d later changes, not kept\n", omitted)
	}

	var src bytes.Buffer
	fmt.Fprintf(&src, "// Code exported by the distsys dashboard %q.\n\npackage replay_test\n\nimport (\n", d.opts.title)
	src.WriteString("\t\"testing\"\n\t\"testing/synctest\"\n")
	if usesTime {
		src.WriteString("\t\"time\"\n")
	}
	src.WriteString("\n")
	if usesTransport {
		src.WriteString("\t\"github.com/distsys-kit/distsys/transport\"\n")
	}
	src.WriteString("\t\"github.com/distsys-kit/distsys/transport/netsim\"\n)\n\n")
	fmt.Fprintf(&src, `// TestReplayDashboardSession replays the faults of a dashboard session,
// %d changes of the network over %s, on the seed of its network, each at
// the moment it was made, in virtual time.
func TestReplayDashboardSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(%d)
		defer n.Close()
		n.LogSeedOnFailure(t)

		// Start the system under test on n here.
		%s

		%s
		// Check here what the system must guarantee, whatever the faults.
	})
}
`, len(changes), last.Round(time.Millisecond), d.net.Seed(), d.opts.setup, body.String())
	out, err := format.Source(src.Bytes())
	if err != nil {
		// The setup code does not parse: hand it back as it is, so that
		// the compiler shows where.
		return src.String()
	}
	return string(out)
}

// goCall returns the statement that makes change e, and whether it needs
// the time and transport packages.
func goCall(e netsim.Event) (call string, usesTime, usesTransport bool) {
	q := strconv.Quote
	switch e.Kind {
	case netsim.EventCrash:
		return "n.Crash(" + q(e.Node) + ")", false, false
	case netsim.EventRestart:
		return "n.Restart(" + q(e.Node) + ")", false, false
	case netsim.EventDisconnect:
		return "n.Disconnect(" + q(e.Node) + ")", false, false
	case netsim.EventReconnect:
		return "n.Reconnect(" + q(e.Node) + ")", false, false
	case netsim.EventPartition:
		var groups []string
		for _, g := range e.Groups {
			var names []string
			for _, name := range g {
				names = append(names, q(name))
			}
			groups = append(groups, "[]string{"+strings.Join(names, ", ")+"}")
		}
		return "n.Partition(" + strings.Join(groups, ", ") + ")", false, false
	case netsim.EventHeal:
		return "n.Heal()", false, false
	case netsim.EventCutLink:
		return "n.CutLink(" + q(e.From) + ", " + q(e.To) + ")", false, false
	case netsim.EventHealLink:
		return "n.HealLink(" + q(e.From) + ", " + q(e.To) + ")", false, false
	case netsim.EventFaults:
		lit, t := goFaults(e.Faults)
		switch {
		case e.Cleared:
			return "n.ClearFaults(" + q(e.From) + ", " + q(e.To) + ")", false, false
		case e.From == "" && e.To == "":
			return "if err := n.SetDefaultFaults(" + lit + "); err != nil {\nt.Fatal(err)\n}", t, true
		}
		return "if err := n.SetFaults(" + q(e.From) + ", " + q(e.To) + ", " + lit + "); err != nil {\nt.Fatal(err)\n}", t, true
	}
	return "// " + e.Kind.String(), false, false
}

// goFaults writes f as a Go literal, and says whether it uses package time.
func goFaults(f transport.Faults) (string, bool) {
	var fields []string
	prob := func(name string, p float64) {
		if p != 0 {
			fields = append(fields, name+": "+strconv.FormatFloat(p, 'g', -1, 64))
		}
	}
	dur := func(name string, d time.Duration) {
		if d != 0 {
			fields = append(fields, name+": "+goDuration(d))
		}
	}
	prob("Drop", f.Drop)
	prob("Duplicate", f.Duplicate)
	dur("Delay", f.Delay)
	dur("Jitter", f.Jitter)
	prob("Reorder", f.Reorder)
	dur("ReorderDelay", f.ReorderDelay)
	prob("Corrupt", f.Corrupt)
	prob("Truncate", f.Truncate)
	usesTime := f.Delay != 0 || f.Jitter != 0 || f.ReorderDelay != 0
	return "transport.Faults{" + strings.Join(fields, ", ") + "}", usesTime
}

// goDuration writes d as a Go expression: "1500 * time.Millisecond".
func goDuration(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + " * time.Millisecond"
	}
	return "time.Duration(" + strconv.FormatInt(int64(d), 10) + ")"
}
