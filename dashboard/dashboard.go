package dashboard

import (
	"cmp"
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/transport/netsim"
)

// static holds the page: plain HTML, CSS and JavaScript, no build step and
// no reference outside itself, so that it works offline in a lecture hall.
//
//go:embed static
var static embed.FS

// Dashboard shows a netsim network live in a browser and lets the browser
// change it: it is an http.Handler to mount anywhere (see the package
// documentation for its routes). Make one with New; Close it when done.
// A Dashboard is safe for concurrent use by multiple goroutines.
type Dashboard struct {
	net   *netsim.Network
	opts  options
	start time.Time
	mux   *http.ServeMux
	stop  func() // stops observing the network

	controls map[string]func(request) error // the POST controls by path; read-only after New

	subs    atomic.Pointer[[]*subscriber] // the browsers watching; replaced under mu, never changed in place
	dropped [maxReason + 1]atomic.Int64   // copies dropped since the dashboard started, by netsim.DropReason

	mu       sync.Mutex // protects the fields below
	closed   bool
	history  [][]byte // the last historyLen changes and narration lines, encoded, for browsers that join late
	recent   [][]byte // the last recentLen message events, encoded, for the same
	changes  []change // every change of the network, for export
	omitted  int      // changes not kept (maxChanges)
	slow     float64  // slow-motion rate, messages per second; 0 if off
	slowStop chan struct{}
	partial  []byte // narration written without its line end yet

	done chan struct{}  // closed by Close
	wg   sync.WaitGroup // event streams and the slow-motion goroutine
}

// The bounds on what a Dashboard keeps.
const (
	historyLen = 200   // changes and narration lines sent to a browser that joins
	recentLen  = 600   // message events sent to a browser that joins, so that its diagram is not empty
	maxChanges = 10000 // changes kept for export
)

// New returns a dashboard of n. It starts observing n at once (see
// netsim.Network.Observe), and starts no goroutine until a browser
// connects or slow motion is turned on.
func New(n *netsim.Network, opts ...Option) *Dashboard {
	d := &Dashboard{net: n, opts: newOptions(opts), mux: http.NewServeMux(), done: make(chan struct{})}
	d.start = d.opts.now()
	d.subs.Store(&[]*subscriber{})
	files, _ := fs.Sub(static, "static") // the directory is embedded: this cannot fail
	d.mux.Handle("/", http.FileServerFS(files))
	d.mux.HandleFunc("GET /events", d.serveEvents)
	d.mux.HandleFunc("GET /api/state", d.serveState)
	d.mux.HandleFunc("GET /api/export", d.serveExport)
	d.mux.HandleFunc("/api/", d.serveControl)
	d.controls = controlsOf(d)
	d.stop = n.Observe(d.observe)
	return d
}

// ServeHTTP serves the page, its event stream and its controls. After
// Close it answers every request with 503 Service Unavailable.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.isClosed() {
		http.Error(w, ErrClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	d.mux.ServeHTTP(w, r)
}

// Close stops the dashboard: it stops observing the network, ends slow
// motion (resuming the network if slow motion held it), ends the event
// streams of the browsers watching, and waits for them. It leaves the
// network as it is otherwise: partitions, crashes and faults stay. Close
// is idempotent and returns nil.
func (d *Dashboard) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	close(d.done)
	slow := d.slow > 0
	d.stopSlowLocked()
	d.mu.Unlock()
	d.stop()
	if slow {
		d.net.Resume() // slow motion was the dashboard's: do not leave the network held
	}
	d.wg.Wait()
	return nil
}

func (d *Dashboard) isClosed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed
}

// Write adds narration to the page: what the program says is happening
// ("bob's read returned a stale value"), shown beside the network as it
// happens. Each line of p is one line of narration; a line without its end
// waits for the rest. It never blocks and always succeeds, so a program
// can narrate to io.MultiWriter(os.Stdout, d).
func (d *Dashboard) Write(p []byte) (int, error) {
	d.mu.Lock()
	text := append(d.partial, p...)
	var lines []string
	for {
		i := slices.Index(text, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(text[:i]))
		text = text[i+1:]
	}
	d.partial = slices.Clone(text)
	d.mu.Unlock()
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			d.broadcast(d.encode("narration", map[string]any{"at": d.since(d.opts.now()), "text": l}), keepHistory)
		}
	}
	return len(p), nil
}

// since returns how long after the dashboard started t is, in
// milliseconds, as the page counts time.
func (d *Dashboard) since(t time.Time) float64 { return ms(t.Sub(d.start)) }

// state returns a snapshot of the network and the dashboard.
func (d *Dashboard) state() state {
	s := d.net.State()
	d.mu.Lock()
	slow := d.slow
	d.mu.Unlock()
	st := state{
		Title: d.opts.title, At: d.since(d.opts.now()), Groups: s.Groups, Defaults: faultsOf(s.Defaults),
		Holding: s.Holding, Held: s.Held, Slow: slow, Seed: d.net.Seed(),
		Nodes: []node{}, Links: []link{}, Reasons: map[string]int64{},
	}
	for r := range d.dropped {
		if n := d.dropped[r].Load(); n > 0 {
			st.Reasons[netsim.DropReason(r).String()] = n
		}
	}
	for _, n := range s.Nodes {
		st.Nodes = append(st.Nodes, node{Name: n.Name, Crashed: n.Crashed, Disconnected: n.Disconnected, Listening: n.Listening})
	}
	named := map[string]int{}
	for i, name := range d.opts.nodes {
		named[name] = i + 1
	}
	for _, name := range d.opts.nodes {
		if !slices.ContainsFunc(st.Nodes, func(n node) bool { return n.Name == name }) {
			st.Nodes = append(st.Nodes, node{Name: name})
		}
	}
	slices.SortStableFunc(st.Nodes, func(a, b node) int {
		ra, rb := named[a.Name], named[b.Name]
		switch {
		case ra > 0 && rb > 0:
			return cmp.Compare(ra, rb)
		case ra > 0:
			return -1
		case rb > 0:
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	for _, l := range s.Links {
		st.Links = append(st.Links, link{
			From: l.From, To: l.To, Cut: l.Cut, CutLink: l.CutLink, Own: l.OwnFaults, Faults: faultsOf(l.Faults),
			Sent: l.Stats.Sent, Delivered: l.Stats.Delivered, Dropped: l.Stats.Dropped, Duplicated: l.Stats.Duplicated,
		})
	}
	return st
}

// serveState answers GET /api/state with a snapshot, as JSON.
func (d *Dashboard) serveState(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(d.state())
}
