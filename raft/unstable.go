package raft

// unstable holds what this server has added to its log but not yet seen
// saved: entries appended since the last Ready, and a snapshot received
// from the leader. Ready hands them to the caller, who saves them; Advance
// then drops them from here (stableTo, stableSnapTo), and from then on
// they are read from Storage.
//
// Entries are never changed in place: a slice handed out (in a Ready, in a
// message) keeps its contents, because a conflicting suffix is replaced
// by copying, not by writing over it.
type unstable struct {
	snapshot *Snapshot // a leader's snapshot to install, or nil
	entries  []Entry   // consecutive, entries[i].Index == offset+i
	offset   uint64
}

// maybeFirstIndex returns the index of the first entry if a snapshot is
// pending (it replaces the whole log), and false otherwise.
func (u *unstable) maybeFirstIndex() (uint64, bool) {
	if u.snapshot != nil {
		return u.snapshot.Index + 1, true
	}
	return 0, false
}

// maybeLastIndex returns the index of the last unstable entry, or of the
// pending snapshot if there are no entries.
func (u *unstable) maybeLastIndex() (uint64, bool) {
	if n := len(u.entries); n != 0 {
		return u.offset + uint64(n) - 1, true
	}
	if u.snapshot != nil {
		return u.snapshot.Index, true
	}
	return 0, false
}

// maybeTerm returns the term of the entry at index i, if it is unstable
// (or is the pending snapshot's last entry).
func (u *unstable) maybeTerm(i uint64) (uint64, bool) {
	if i < u.offset {
		if u.snapshot != nil && u.snapshot.Index == i {
			return u.snapshot.Term, true
		}
		return 0, false
	}
	if last, ok := u.maybeLastIndex(); !ok || i > last {
		return 0, false
	}
	return u.entries[i-u.offset].Term, true
}

// stableTo drops the entries up to index i, which the caller has saved,
// unless the entry at i has since been replaced by one of another term
// (then the saved one is stale and the new one still needs saving).
func (u *unstable) stableTo(i, term uint64) {
	t, ok := u.maybeTerm(i)
	if !ok || t != term || i < u.offset {
		return
	}
	u.entries = u.entries[i+1-u.offset:]
	u.offset = i + 1
	if len(u.entries) == 0 {
		u.entries = nil // let the old array go
	}
}

// stableSnapTo drops the pending snapshot once the caller has saved it.
func (u *unstable) stableSnapTo(i uint64) {
	if u.snapshot != nil && u.snapshot.Index == i {
		u.snapshot = nil
	}
}

// restore replaces everything with snapshot s (Figure 13, rule 7).
func (u *unstable) restore(s Snapshot) {
	u.offset = s.Index + 1
	u.entries = nil
	u.snapshot = &s
}

// truncateAndAppend adds ents, which replace any unstable entries at
// their indexes and after. The caller has checked that ents[0] follows
// the log's last stable entry or an unstable one.
func (u *unstable) truncateAndAppend(ents []Entry) {
	first := ents[0].Index
	switch {
	case first == u.offset+uint64(len(u.entries)):
		// The common case: the entries follow on.
		u.entries = append(u.entries, ents...)
	case first <= u.offset:
		// They replace every unstable entry (and some stable ones, which
		// Storage.Save discards when it saves these).
		u.offset = first
		u.entries = append([]Entry(nil), ents...)
	default:
		// They replace a suffix: copy the part kept, so that slices
		// already handed out keep their contents.
		kept := u.entries[:first-u.offset]
		u.entries = append(append(make([]Entry, 0, len(kept)+len(ents)), kept...), ents...)
	}
}

// slice returns the unstable entries in [lo, hi), which the caller has
// checked are unstable.
func (u *unstable) slice(lo, hi uint64) []Entry {
	return u.entries[lo-u.offset : hi-u.offset : hi-u.offset]
}
