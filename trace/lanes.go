package trace

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// laneInfo is one node's line in the diagram.
type laneInfo struct {
	Name   string
	Group  string // the group it is drawn in; see groupOf
	Traced bool   // false for a peer that has no events here (another process, an address)
}

// orderLanes gives a line to every node with events, and then to the
// senders of messages that have none here (a message received from another
// process's Recorder). Nodes are grouped by their name without its number
// (client-1, client-2 and client-3 form the group "client"), the groups
// in the order their first member appears, and the members of a group in
// natural order: client-2 before client-10. Untraced peers come last.
func orderLanes(events []Event) []laneInfo {
	seen := map[string]int{} // name -> index in lanes
	var lanes []laneInfo
	add := func(name string, traced bool) {
		if i, ok := seen[name]; ok {
			lanes[i].Traced = lanes[i].Traced || traced
			return
		}
		seen[name] = len(lanes)
		lanes = append(lanes, laneInfo{Name: name, Group: groupOf(name), Traced: traced})
	}
	for _, e := range events {
		if e.Kind.process() {
			add(e.Node, true)
		}
	}
	for _, e := range events {
		if m, ok := e.Message(); ok {
			add(m.From, false)
		}
		if e.Kind == KindDuplicate {
			add(e.Node, false)
		}
	}
	groupRank := map[string]int{}
	for _, l := range lanes {
		if _, ok := groupRank[l.Group]; !ok && l.Traced {
			groupRank[l.Group] = len(groupRank)
		}
	}
	for _, l := range lanes {
		if _, ok := groupRank[l.Group]; !ok {
			groupRank[l.Group] = len(groupRank)
		}
	}
	slices.SortStableFunc(lanes, func(a, b laneInfo) int {
		if a.Traced != b.Traced {
			if a.Traced {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(groupRank[a.Group], groupRank[b.Group]), naturalCompare(a.Name, b.Name))
	})
	return lanes
}

// groupOf returns the group of a node: its name without a trailing number
// and the separator before it ("client-3" -> "client", "worker7" ->
// "worker"); a name without a number is a group of its own.
func groupOf(name string) string {
	base := strings.TrimRightFunc(name, unicode.IsDigit)
	if base == name || base == "" {
		return name
	}
	return strings.TrimRight(base, "-_.# ")
}

// naturalCompare orders names as people do: the numbers in them by value,
// so "n2" comes before "n10".
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da != "" && db != "" {
			na, _ := strconv.ParseUint(da, 10, 64)
			nb, _ := strconv.ParseUint(db, 10, 64)
			if c := cmp.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && i < 18 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
