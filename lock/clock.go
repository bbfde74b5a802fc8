package lock

import "time"

// Clock is the client's sense of time: when a lease expires and when to
// renew it are read from it. The default is the system clock. Tests inject
// a clock that runs fast or slow, to show that a client whose clock drifts
// can believe it holds a lock that the server has given away, and that the
// fencing token still protects the resource.
//
// A Clock must be safe for concurrent use by multiple goroutines. Durations
// passed to it are in its own time: a clock running at half speed fires
// NewTimer(time.Second) after two real seconds.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that fires after d.
	NewTimer(d time.Duration) *time.Timer
	// AfterFunc calls f in its own goroutine after d, unless the returned
	// timer is stopped first.
	AfterFunc(d time.Duration, f func()) *time.Timer
}

// systemClock is the default Clock.
type systemClock struct{}

func (systemClock) Now() time.Time                                  { return time.Now() }
func (systemClock) NewTimer(d time.Duration) *time.Timer            { return time.NewTimer(d) }
func (systemClock) AfterFunc(d time.Duration, f func()) *time.Timer { return time.AfterFunc(d, f) }
