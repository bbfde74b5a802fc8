package rpc_test

import (
	"flag"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
)

var soak = flag.Bool("soak", false, "run the long at-most-once soak test")

// TestSoakExactlyOnce is TestRetriedCallsTakeEffectExactlyOnce over many
// seeds and many more calls, on a network that loses, duplicates, delays
// and reorders messages. It runs only with -soak:
//
//	go test -run=TestSoakExactlyOnce -soak ./rpc/
func TestSoakExactlyOnce(t *testing.T) {
	if !*soak {
		t.Skip("long; run with -soak")
	}
	for seed := int64(1); seed <= 200; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				_, l, d := lossyNetsim(t, lossyFaults, seed)
				svc, _ := startServerWith(t, l)
				c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(d),
					rpc.WithRetry(rpc.RetryPolicy{Interval: 20 * time.Millisecond}))
				require.NoError(t, err)
				defer c.Close()
				const goroutines, calls = 16, 1000
				var wg sync.WaitGroup
				for range goroutines {
					wg.Go(func() {
						for range calls {
							if err := c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply)); err != nil {
								t.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				assert.EqualValues(t, goroutines*calls, svc.n.Load())
			})
		})
	}
}
