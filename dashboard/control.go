package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// The controls are POST requests with a JSON body, answered with the
// network's new state (as GET /api/state), or with 400 Bad Request and a
// message for a request that makes no sense: malformed JSON, a field the
// control does not have, an unknown node, a rate outside [0, 1].
//
//	POST /api/partition {"groups": [["a", "b"], ["c"]]}
//	POST /api/heal      {}
//	POST /api/crash     {"node": "a"}            and /api/restart
//	POST /api/link      {"from": "a", "to": "b", "cut": true}     one direction
//	POST /api/faults    {"from": "a", "to": "b", "drop": 0.2, "duplicate": 0, "delayMs": 30}
//	                    (no from and to: the default faults; "clear": true: back to the defaults)
//	POST /api/pause, /api/resume   {}
//	POST /api/step      {"count": 1}
//	POST /api/slow      {"rate": 2}              messages per second; 0 ends slow motion

// maxBody bounds a control's request body.
const maxBody = 64 << 10

// maxDelay bounds the delay a browser may set on a link.
const maxDelay = time.Minute

// request is every field a control may take; each control reads its own.
type request struct {
	Groups    [][]string `json:"groups"`
	Node      string     `json:"node"`
	From      string     `json:"from"`
	To        string     `json:"to"`
	Cut       bool       `json:"cut"`
	Drop      float64    `json:"drop"`
	Duplicate float64    `json:"duplicate"`
	DelayMs   float64    `json:"delayMs"`
	JitterMs  float64    `json:"jitterMs"`
	Clear     bool       `json:"clear"`
	Count     int        `json:"count"`
	Rate      float64    `json:"rate"`
}

// serveControl runs the control the path names.
func (d *Dashboard) serveControl(w http.ResponseWriter, r *http.Request) {
	control, ok := d.controls[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	switch {
	case errors.Is(err, io.EOF):
		// an empty body: a control without arguments
	case err != nil:
		http.Error(w, "malformed JSON: "+err.Error(), http.StatusBadRequest)
		return
	case dec.More():
		http.Error(w, "malformed JSON: more than one value", http.StatusBadRequest)
		return
	}
	if err := control(req); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, errBadRequest) {
			status = http.StatusBadRequest
		}
		http.Error(w, err.Error(), status)
		return
	}
	st := d.state()
	d.broadcast(d.encode("state", st), keepNone) // every browser sees the change at once
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

// controlsOf maps each control's path to what it does, on d.
func controlsOf(d *Dashboard) map[string]func(request) error {
	return map[string]func(request) error{
		"/api/partition": d.partition,
		"/api/heal":      func(request) error { d.net.Heal(); return nil },
		"/api/crash":     d.nodeControl(d.net.Crash),
		"/api/restart":   d.nodeControl(d.net.Restart),
		"/api/link":      d.linkCut,
		"/api/faults":    d.faults,
		"/api/pause":     func(request) error { d.pause(); return nil },
		"/api/resume":    func(request) error { d.resume(); return nil },
		"/api/step":      d.step,
		"/api/slow":      d.slowMotion,
	}
}

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// checkNodes returns an error for a name that is not a node of the network.
func (d *Dashboard) checkNodes(names ...string) error {
	known := map[string]bool{}
	for _, n := range d.state().Nodes {
		known[n.Name] = true
	}
	for _, name := range names {
		if !known[name] {
			return badRequest("unknown node %q", name)
		}
	}
	return nil
}

func (d *Dashboard) partition(req request) error {
	seen := map[string]bool{}
	var all []string
	for _, g := range req.Groups {
		for _, name := range g {
			if seen[name] {
				return badRequest("node %q is in two groups", name)
			}
			seen[name] = true
			all = append(all, name)
		}
	}
	if len(all) == 0 {
		return badRequest("a partition needs at least one group with a node")
	}
	if err := d.checkNodes(all...); err != nil {
		return err
	}
	d.net.Partition(req.Groups...)
	return nil
}

func (d *Dashboard) nodeControl(f func(string)) func(request) error {
	return func(req request) error {
		if err := d.checkNodes(req.Node); err != nil {
			return err
		}
		f(req.Node)
		return nil
	}
}

func (d *Dashboard) linkCut(req request) error {
	if err := d.checkLink(req.From, req.To); err != nil {
		return err
	}
	if req.Cut {
		d.net.CutLink(req.From, req.To)
	} else {
		d.net.HealLink(req.From, req.To)
	}
	return nil
}

func (d *Dashboard) checkLink(from, to string) error {
	if from == to {
		return badRequest("a link joins two different nodes, not %q to itself", from)
	}
	return d.checkNodes(from, to)
}

func (d *Dashboard) faults(req request) error {
	switch {
	case math.IsNaN(req.Drop) || req.Drop < 0 || req.Drop > 1:
		return badRequest("drop %v is not a probability in [0, 1]", req.Drop)
	case math.IsNaN(req.Duplicate) || req.Duplicate < 0 || req.Duplicate > 1:
		return badRequest("duplicate %v is not a probability in [0, 1]", req.Duplicate)
	case math.IsNaN(req.DelayMs) || req.DelayMs < 0 || req.DelayMs > ms(maxDelay):
		return badRequest("delay %vms is not between 0 and %v", req.DelayMs, maxDelay)
	case math.IsNaN(req.JitterMs) || req.JitterMs < 0 || req.JitterMs > ms(maxDelay):
		return badRequest("jitter %vms is not between 0 and %v", req.JitterMs, maxDelay)
	}
	f := transport.Faults{
		Drop: req.Drop, Duplicate: req.Duplicate,
		Delay: time.Duration(req.DelayMs * float64(time.Millisecond)), Jitter: time.Duration(req.JitterMs * float64(time.Millisecond)),
	}
	if req.From == "" && req.To == "" {
		if req.Clear {
			return badRequest("clear needs a link: from and to")
		}
		return d.net.SetDefaultFaults(f)
	}
	if err := d.checkLink(req.From, req.To); err != nil {
		return err
	}
	if req.Clear {
		d.net.ClearFaults(req.From, req.To)
		return nil
	}
	return d.net.SetFaults(req.From, req.To, f)
}
