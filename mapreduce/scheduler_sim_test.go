package mapreduce

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// simulate runs a job on the scheduler in made-up time, in steps of
// 100ms: every task takes one second, except on the workers listed in
// slow, where it takes 25 seconds (a machine with a bad disk, say). The
// workers heartbeat every step, reporting progress, so the slow one is
// never considered stalled. It returns when the job ended.
func simulate(tb testing.TB, backups bool, nMap, nReduce, workers int, slow map[int]bool) (time.Duration, *scheduler) {
	tb.Helper()
	const step = 100 * time.Millisecond
	s := newTestScheduler(nMap, nReduce, func(c *schedConfig) { c.backups = backups; c.timeout = 10 * time.Second })
	type sim struct {
		id      int
		a       *attempt
		doneAt  time.Time
		started time.Time
	}
	ws := make([]*sim, workers)
	for i := range ws {
		ws[i] = &sim{id: s.register(t0, "w")}
	}
	for now := t0; now.Sub(t0) < time.Hour; now = now.Add(step) {
		for _, w := range ws {
			if w.a != nil {
				cancel, err := s.heartbeat(now, w.id, ptr(ref(w.a)), int64(now.Sub(w.started)/step))
				require.NoError(tb, err)
				switch {
				case cancel:
					w.a = nil
				case !now.Before(w.doneAt):
					finishSim(tb, s, now, w.a)
					w.a = nil
				}
			}
			if w.a == nil {
				as, err := s.assign(now, w.id)
				require.NoError(tb, err)
				if as.kind == assignTask {
					d := time.Second
					if slow[w.id] {
						d = 25 * time.Second
					}
					w.a, w.started, w.doneAt = as.attempt, now, now.Add(d)
				}
			}
		}
		s.tick(now)
		if s.finished() {
			require.NoError(tb, s.err)
			return now.Sub(t0), s
		}
	}
	tb.Fatal("the simulated job did not finish")
	return 0, nil
}

// finishSim completes a; a reduce attempt refused the commit just stops.
func finishSim(tb testing.TB, s *scheduler, now time.Time, a *attempt) {
	tb.Helper()
	if a.task.kind == ReduceTask {
		granted, err := s.commit(now, a.worker.id, ref(a))
		require.NoError(tb, err)
		if !granted {
			return
		}
	}
	require.NoError(tb, s.complete(now, a.worker.id, ref(a), mapOutput{Addr: "w"}, nil))
}

func TestBackupTasksCutTheTimeOfAStraggler(t *testing.T) {
	// "The job takes 44% longer to complete when the backup task mechanism
	// is disabled." Here one worker in four is 25 times slower.
	slow := map[int]bool{3: true}
	without, _ := simulate(t, false, 16, 4, 4, slow)
	with, s := simulate(t, true, 16, 4, 4, slow)
	t.Logf("job time without backups %v, with backups %v (%d backups)", without, with, s.stats.backups)
	assert.GreaterOrEqual(t, without, 25*time.Second, "the straggler holds the job up")
	assert.Less(t, with, 10*time.Second)
	assert.Positive(t, s.stats.backups)
}

func TestBackupsAreNotLaunchedWithoutAStraggler(t *testing.T) {
	_, s := simulate(t, true, 16, 4, 4, nil)
	assert.Zero(t, s.stats.backups, "equal tasks never run longer than the average")
}
