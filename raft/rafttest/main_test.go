package rafttest_test

import (
	"flag"
	"fmt"
	"strconv"
	"testing"
	"testing/synctest"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var soak = flag.Int("soak", 0, "run every MIT test with this many seeds (1 to N) instead of seed 1")

// seeded runs test in a synctest bubble once per seed: seed 1, or seeds
// 1 to -soak. Each run is a subtest named after its seed, so a failure
// names the seed that replays it (go test -run 'TestX/seed7').
func seeded(t *testing.T, test func(t *testing.T, seed int64)) {
	n := max(*soak, 1)
	for seed := int64(1); seed <= int64(n); seed++ {
		t.Run("seed"+strconv.FormatInt(seed, 10), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { test(t, seed) })
		})
	}
}

// cmd encodes a test's integer command, as MIT's tests use ints.
func cmd(x int) []byte { return []byte(strconv.Itoa(x)) }

// randCmd returns a random command (MIT's rand.Int()).
func randCmd(c interface{ Rand(int) int }) []byte { return cmd(c.Rand(1 << 30)) }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
