package kvraft_test

import (
	"flag"
	"testing"

	"go.uber.org/goleak"
)

var soak = flag.Bool("soak", false, "run the lab scenarios over many seeds")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
