package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/kvraft"
)

// outcome is how a clerk's write ended, as the clerk knows it.
type outcome int

const (
	notApplied outcome = iota // no replica got it, or a replica refused it
	done                      // acknowledged: applied once
	maybe                     // given up after an attempt reached a replica: applied once, or not at all
)

// outcomeOf returns the outcome of a write that returned err.
func outcomeOf(err error) outcome {
	switch {
	case err == nil:
		return done
	case errors.Is(err, kvraft.ErrMaybeApplied):
		return maybe
	}
	return notApplied
}

// audit is what the clerks did, to check the service against: each
// append's outcome, and each clerk's puts.
type audit struct {
	clerks []string

	mu      sync.Mutex           // protects appends, puts
	appends map[string]outcome   // mark -> how its append ended
	puts    map[string][]putDone // clerk -> its puts, in order
}

// putDone is one Put of a clerk's key, and how it ended.
type putDone struct {
	value string
	how   outcome
}

func newAudit(clerks []*liveClerk) *audit {
	a := &audit{appends: map[string]outcome{}, puts: map[string][]putDone{}}
	for _, lc := range clerks {
		a.clerks = append(a.clerks, lc.name)
	}
	return a
}

// appended notes how the append of mark ended.
func (a *audit) appended(mark string, how outcome) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.appends[mark] = how
}

// put notes how clerk's put of value ended.
func (a *audit) put(clerk, value string, how outcome) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.puts[clerk] = append(a.puts[clerk], putDone{value, how})
}

// check reads "log" and each clerk's key through checker (linearizable
// reads) and returns the verdict of judge.
func (a *audit) check(ctx context.Context, checker *liveClerk) string {
	ctx, cancel := context.WithTimeout(ctx, liveOpTimeout)
	defer cancel()
	log, _, err := checker.ck.Get(ctx, "log")
	if err != nil {
		return fmt.Sprintf("   The checker cannot read log within %v: %v.", liveOpTimeout, err)
	}
	keys := map[string]string{}
	for _, clerk := range a.clerks {
		v, _, err := checker.ck.Get(ctx, clerk)
		if err != nil && !errors.Is(err, kv.ErrNoKey) {
			return fmt.Sprintf("   The checker cannot read %s within %v: %v.", clerk, liveOpTimeout, err)
		}
		keys[clerk] = v
	}
	return a.judge(log, keys)
}

// judge compares what the service holds, log and each clerk's key, with
// what the clerks were told: every acknowledged append is in the log
// once, a maybe-applied one once or not at all, none twice, and none
// that the clerks did not make or were told did not apply; each key holds
// its clerk's last acknowledged put, or a later maybe-applied one.
func (a *audit) judge(log string, keys map[string]string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	count := map[string]int{}
	for _, m := range strings.Fields(log) {
		count[m]++
	}
	var acked, maybes, maybeIn, lost, doubled, stray int
	for mark, how := range a.appends {
		switch n := count[mark]; {
		case n > 1:
			doubled++
		case how == done && n == 0:
			lost++
		case how == notApplied && n == 1:
			stray++ // the clerk was told it did not apply
		}
		switch how {
		case done:
			acked++
		case maybe:
			maybes++
			maybeIn += min(count[mark], 1)
		}
	}
	for mark := range count {
		if _, ok := a.appends[mark]; !ok {
			stray++
		}
	}
	wrong := 0
	for _, clerk := range a.clerks {
		if !a.putOK(clerk, keys[clerk]) {
			wrong++
		}
	}
	verdict := "exact: no append lost or doubled, every key as its clerk left it"
	if lost+doubled+stray+wrong > 0 {
		verdict = "WRONG"
	}
	return fmt.Sprintf("   log holds %d marks for %d appends acknowledged and %d of %d maybe applied: %d lost, %d doubled, %d stray; %d keys wrong: %s.",
		len(strings.Fields(log)), acked, maybeIn, maybes, lost, doubled, stray, wrong, verdict)
}

// putOK reports whether v can be the value of clerk's key: its last
// acknowledged put, or a later one that may have applied ("" if none of
// its puts was acknowledged, and none may have applied).
func (a *audit) putOK(clerk, v string) bool {
	ok := map[string]bool{"": true}
	for _, p := range a.puts[clerk] {
		switch p.how {
		case done:
			ok = map[string]bool{p.value: true}
		case maybe:
			ok[p.value] = true
		}
	}
	return ok[v]
}
