package dashboard

import (
	"strconv"
	"time"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// What the page is sent, as JSON: events as they happen, and snapshots of
// the whole network (state) every stateEvery and after every change.

// event is one netsim event, as the page draws it.
type event struct {
	Kind   string      `json:"kind"` // netsim's EventKind.String()
	At     float64     `json:"at"`   // milliseconds since the dashboard started
	From   string      `json:"from,omitempty"`
	To     string      `json:"to,omitempty"`
	ID     string      `json:"id,omitempty"` // names a copy of a message: conn/seq, and "+" for the duplicate
	Label  string      `json:"label,omitempty"`
	Size   int         `json:"size,omitempty"`
	Reason string      `json:"reason,omitempty"`
	Node   string      `json:"node,omitempty"`
	Groups [][]string  `json:"groups,omitempty"`
	Faults *faultsJSON `json:"faults,omitempty"`
}

// faultsJSON is the part of transport.Faults the page shows and sets.
type faultsJSON struct {
	Drop      float64 `json:"drop"`
	Duplicate float64 `json:"duplicate"`
	DelayMs   float64 `json:"delayMs"`
	JitterMs  float64 `json:"jitterMs"`
}

func faultsOf(f transport.Faults) faultsJSON {
	return faultsJSON{Drop: f.Drop, Duplicate: f.Duplicate, DelayMs: ms(f.Delay), JitterMs: ms(f.Jitter)}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// state is a snapshot of the network and of the dashboard's controls.
type state struct {
	Title    string     `json:"title"`
	At       float64    `json:"at"`
	Nodes    []node     `json:"nodes"`
	Links    []link     `json:"links"`
	Groups   [][]string `json:"groups"`
	Defaults faultsJSON `json:"defaults"`
	Holding  bool       `json:"holding"`
	Held     int        `json:"held"`
	Slow     float64    `json:"slow"` // messages per second in slow motion; 0 if off
	Seed     int64      `json:"seed"`
	// Reasons counts the copies dropped since the dashboard started, by
	// reason ("partition").
	Reasons map[string]int64 `json:"reasons"`
}

type node struct {
	Name         string `json:"name"`
	Crashed      bool   `json:"crashed"`
	Disconnected bool   `json:"disconnected"`
	Listening    bool   `json:"listening"`
}

type link struct {
	From       string     `json:"from"`
	To         string     `json:"to"`
	Cut        bool       `json:"cut"`
	CutLink    bool       `json:"cutLink"`
	Own        bool       `json:"own"`
	Faults     faultsJSON `json:"faults"`
	Sent       int64      `json:"sent"`
	Delivered  int64      `json:"delivered"`
	Dropped    int64      `json:"dropped"`
	Duplicated int64      `json:"duplicated"`
}

// copyID names a copy of a message for the page: the sending conn and the
// message's number, and "+" for the second copy of a duplicated message.
func copyID(e netsim.Event) string {
	id := strconv.FormatUint(e.ConnID, 10) + "/" + strconv.FormatUint(e.Seq, 10)
	if e.Duplicate {
		id += "+"
	}
	return id
}
