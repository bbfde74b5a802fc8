package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/distsys-kit/distsys/internal/retry"
)

// A client retries a request while its server is down, pausing longer
// after each failure, and gives up when its context ends.
func ExampleBackoff() {
	errDown := errors.New("connection refused")
	attempts := 0
	call := func() error { // the server comes back on the fourth attempt
		if attempts++; attempts < 4 {
			return errDown
		}
		return nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	b := retry.Backoff{Initial: time.Millisecond, Max: 4 * time.Millisecond}
	for {
		err := call()
		if err == nil {
			break
		}
		if !errors.Is(err, errDown) {
			return // retrying cannot fix this one
		}
		if err := b.Wait(ctx); err != nil {
			fmt.Println("gave up:", err)
			return
		}
	}
	fmt.Println("answered after", attempts, "attempts")
	// Output: answered after 4 attempts
}
