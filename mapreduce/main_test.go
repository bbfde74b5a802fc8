package mapreduce

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// helperEnv, when set, makes the test binary a helper process: it runs
// Main with the test jobs instead of the tests (see process_test.go).
const helperEnv = "MAPREDUCE_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(helperMain())
	}
	goleak.VerifyTestMain(m)
}

// helperMain is the main of a helper process: a coordinator or a worker of
// one of the test jobs, bounded in time so that a bug cannot leave it
// running.
func helperMain() int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	jobs := []Job{wordCount(nil, "", 0), invertedIndex(nil, "", 0), grep("ab", nil, "", 0)}
	if err := Main(ctx, os.Args[1:], jobs...); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	return 0
}
