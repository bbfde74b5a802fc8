package netsim

import (
	"cmp"
	"slices"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// State is a snapshot of a network: what a dashboard draws, or a test
// checks, at one moment. It is a copy: changing it changes nothing.
type State struct {
	Time     time.Time   // when it was taken, by time.Now
	Nodes    []NodeState // every node named so far, by name
	Links    []LinkState // every link used or configured so far, by From then To
	Groups   [][]string  // the partition's groups (as given to Partition); nil if none
	Defaults transport.Faults
	Holding  bool // deliveries are held (Hold)
	Held     int  // copies of messages waiting for Release
}

// NodeState is the state of one node.
type NodeState struct {
	Name         string
	Crashed      bool
	Disconnected bool
	Listening    bool // it has a listener open
	Conns        int  // conn ends open on it
}

// LinkState is the state of one direction of one link.
type LinkState struct {
	From, To string
	// Faults are the faults messages sent now meet: the link's own if
	// OwnFaults, else the network's defaults.
	Faults    transport.Faults
	OwnFaults bool
	Limits    Limits
	// Cut is true while a partition, a Disconnect or CutLink keeps
	// messages from crossing; CutLink tells whether CutLink is one reason.
	Cut, CutLink bool
	Stats        LinkStats
}

// State returns a snapshot of the network as of now.
func (n *Network) State() State {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	s := State{Time: now, Defaults: n.defaults, Holding: n.holding}
	for _, nd := range n.nodes {
		s.Nodes = append(s.Nodes, NodeState{
			Name: nd.name, Crashed: nd.crashed, Disconnected: nd.disconnected,
			Listening: nd.listener != nil, Conns: len(nd.conns),
		})
	}
	slices.SortFunc(s.Nodes, func(a, b NodeState) int { return cmp.Compare(a.Name, b.Name) })
	for k, l := range n.links {
		s.Links = append(s.Links, LinkState{
			From: k.from, To: k.to,
			Faults: n.faultsOf(l), OwnFaults: l.faults != nil, Limits: l.limits,
			Cut: n.isCut(l.from, l.to), CutLink: n.linkCuts[k],
			Stats: LinkStats{Counts: l.counts, Partitioned: l.cut.total(now), Faults: l.faultStats},
		})
	}
	slices.SortFunc(s.Links, func(a, b LinkState) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	if n.groups != nil {
		s.Groups = n.groupsLocked()
	}
	for _, it := range n.held.slice() {
		if isData(it) {
			s.Held++
		}
	}
	return s
}

// groupsLocked returns the partition's groups, each sorted, in the order
// they were given, without the group of the nodes named in none. The
// caller holds n.mu.
func (n *Network) groupsLocked() [][]string {
	count := 0
	for _, g := range n.groups {
		count = max(count, g)
	}
	groups := make([][]string, count)
	for name, g := range n.groups {
		groups[g-1] = append(groups[g-1], name)
	}
	for _, g := range groups {
		slices.Sort(g)
	}
	return groups
}
