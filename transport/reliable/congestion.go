package reliable

import "time"

// congestion is the sender's congestion control: how many segments it
// trusts the network with, the congestion window (cwnd). The receiver's
// window says how much the receiver can hold; cwnd guesses how much the
// path can carry without its queues overflowing, from one signal: loss.
// The package documentation explains the idea; this is the arithmetic, in
// segments:
//
//   - Slow start. A connection starts with initialCwnd and adds a segment
//     for every segment acknowledged, doubling cwnd each round trip, until
//     the first loss (or ssthresh).
//   - Congestion avoidance (additive increase). Above ssthresh, cwnd grows
//     by one segment per round trip: a whole cwnd of acknowledgements for
//     each new segment.
//   - Fast recovery (multiplicative decrease). A segment found lost because
//     later ones arrived (sender.detectLoss) may mean a queue overflowed:
//     cwnd and ssthresh drop to half of cwnd, once per round trip (the
//     round trip ends when everything sent before the loss is
//     acknowledged), but never below the path's measured capacity, the
//     bandwidth-delay product (BDP): the highest delivery rate seen lately
//     times the shortest round trip seen lately. That floor is TCP
//     Westwood+'s idea. A loss that overflowed a queue comes with the path
//     full, and the window drops to what the path carries without the
//     queue: the queue drains and the link stays busy. A loss from a bad
//     link (noise, a lossy simulation) comes with no queue, and the window
//     barely moves, where halving it at every such loss would leave a
//     link that loses one packet in ten all but idle.
//   - Timeout. Nothing acknowledged for a whole timeout: cwnd drops to one
//     segment and slow start begins again, up to half of the old cwnd. If
//     the first acknowledgement after the timeout covers a segment sent
//     before it, the timeout was spurious (the acknowledgements were merely
//     late), and cwnd and ssthresh are restored (as F-RTO, RFC 5682, does).
//
// cwnd only grows while it is what holds the sender back (RFC 7661): a
// connection with little to send does not earn a window it never used.
// With Config.FixedWindow, all of this is off and only the windows bound
// the sender, as in LSP and in KCP's fast mode.
type congestion struct {
	fixed    bool // Config.FixedWindow: no congestion control
	mss      int  // the most segment bytes a datagram carries: the unit of growth
	cwnd     int  // bytes allowed in flight (not counting those known lost)
	ssthresh int  // slow start below it, congestion avoidance from it on
	max      int  // cwnd never exceeds it: the sender's window, in bytes
	grown    int  // congestion avoidance: bytes acknowledged toward the next increase
	limited  bool // cwnd held a segment back since the last acknowledgement

	recovering bool   // in fast recovery: cwnd was cut for this round trip
	recoverEnd uint32 // recovery ends once every segment before it is acknowledged

	timeoutSends  uint64 // sender.sends at the last timeout, until the next ACK judges it; 0 if none
	priorCwnd     int    // cwnd and ssthresh before that timeout
	priorSsthresh int

	// The bandwidth-delay product, measured: segments acknowledged per
	// second over successive round trips (the best of the last few), and
	// the shortest round trip of the last rttWindow.
	delivered   int                  // bytes acknowledged so far
	sampleStart time.Time            // when the current rate sample began
	sampleFrom  int                  // delivered then
	rates       [rateSamples]float64 // the last rate samples, in bytes per second
	nextRate    int                  // where the next sample goes in rates
	minRTT      time.Duration        // 0: no sample yet
	minRTTAt    time.Time            // when minRTT was measured
}

// The window is counted in bytes, as TCP's is, not in segments: a packet
// carries one segment of a large message but dozens of small messages,
// and it is packets that queues hold and drop.
const (
	// initialCwnd is the congestion window of a new connection, in
	// segments of the largest size: ten, as TCP's (RFC 6928).
	initialCwnd = 10
	// minCwnd is the smallest window a loss leaves, in segments of the
	// largest size: two, so that a later loss is found by the next
	// one's acknowledgement.
	minCwnd = 2
	// rateSamples is how many round trips' delivery rates the BDP
	// estimate takes the best of.
	rateSamples = 8
	// rttWindow is how long the shortest round trip is kept before a
	// newer, longer one replaces it (the path may have changed).
	rttWindow = 10 * time.Second
)

func newCongestion(fixed bool, window, mss int) congestion {
	max := window * mss
	return congestion{fixed: fixed, mss: mss, cwnd: min(initialCwnd*mss, max), ssthresh: max, max: max}
}

// allows reports whether one more segment may go while pipe bytes are in
// flight, and remembers if cwnd said no.
func (c *congestion) allows(pipe int) bool {
	if c.fixed || pipe < c.cwnd {
		return true
	}
	c.limited = true
	return false
}

// window is cwnd in bytes, or 0 with FixedWindow (for Stats).
func (c *congestion) window() int {
	if c.fixed {
		return 0
	}
	return c.cwnd
}

// onAck handles an acknowledgement of n new bytes, at now, after which
// every segment before una is acknowledged. spurious says it covered a
// segment sent before the last timeout, and not since. srtt is the
// smoothed round trip: a rate sample lasts at least that long.
func (c *congestion) onAck(n int, una uint32, spurious bool, now time.Time, srtt time.Duration) {
	if c.fixed || n == 0 {
		return
	}
	c.measure(n, now, srtt)
	if c.timeoutSends != 0 {
		if spurious {
			c.cwnd, c.ssthresh = max(c.cwnd, c.priorCwnd), max(c.ssthresh, c.priorSsthresh)
		}
		c.timeoutSends = 0
	}
	if c.recovering {
		if seqLess(una, c.recoverEnd) {
			return // no growth while the losses of this round trip are repaired
		}
		c.recovering = false
	}
	if !c.limited {
		return
	}
	c.limited = false
	if c.cwnd < c.ssthresh {
		c.cwnd = min(c.cwnd+n, c.max)
		return
	}
	c.grown += n
	for c.grown >= c.cwnd {
		c.grown -= c.cwnd
		c.cwnd = min(c.cwnd+c.mss, c.max)
	}
}

// onLoss handles segments found lost by later ones' acknowledgements;
// next is the next new segment to be sent.
func (c *congestion) onLoss(next uint32) {
	if c.fixed || c.recovering {
		return // one cut per round trip: these losses belong to the last one
	}
	c.ssthresh = c.reduced()
	c.cwnd, c.grown = c.ssthresh, 0
	c.recovering, c.recoverEnd = true, next
}

// reduced is the window after a loss: half of cwnd, but not below the
// measured BDP (nor minCwnd), and never more than cwnd.
func (c *congestion) reduced() int {
	return min(c.cwnd, max(c.cwnd/2, c.bdp(), minCwnd*c.mss))
}

// onTimeout handles the first expiry of the retransmission timer in a row;
// sends is the sender's count of transmissions so far.
func (c *congestion) onTimeout(sends uint64) {
	if c.fixed {
		return
	}
	c.priorCwnd, c.priorSsthresh = c.cwnd, c.ssthresh
	c.timeoutSends = sends
	c.ssthresh = c.reduced()
	c.cwnd, c.grown, c.recovering = c.mss, 0, false
}

// onRTT takes a round-trip sample, measured at now.
func (c *congestion) onRTT(rtt time.Duration, now time.Time) {
	if c.minRTT == 0 || rtt <= c.minRTT || now.Sub(c.minRTTAt) > rttWindow {
		c.minRTT, c.minRTTAt = max(rtt, time.Microsecond), now
	}
}

// measure counts n bytes acknowledged at now, and closes the current
// rate sample once it has lasted a round trip.
func (c *congestion) measure(n int, now time.Time, srtt time.Duration) {
	c.delivered += n
	if c.sampleStart.IsZero() {
		c.sampleStart, c.sampleFrom = now, c.delivered
		return
	}
	if d := now.Sub(c.sampleStart); d >= max(srtt, time.Millisecond) {
		c.rates[c.nextRate] = float64(c.delivered-c.sampleFrom) / d.Seconds()
		c.nextRate = (c.nextRate + 1) % rateSamples
		c.sampleStart, c.sampleFrom = now, c.delivered
	}
}

// bdp is the measured bandwidth-delay product, in bytes: the best
// recent delivery rate times the shortest recent round trip.
func (c *congestion) bdp() int {
	best := 0.0
	for _, r := range c.rates {
		best = max(best, r)
	}
	return int(best * c.minRTT.Seconds())
}
