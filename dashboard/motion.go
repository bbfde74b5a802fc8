package dashboard

import "time"

// Pause, step and slow motion hold the network's deliveries (netsim's
// Hold) and let them through one at a time (Release): the program keeps
// running, and its timers keep firing, while the class looks at a message
// on its way.

// maxSlowRate bounds slow motion: faster than this is no slow motion.
const maxSlowRate = 100

func (d *Dashboard) pause() {
	d.mu.Lock()
	d.stopSlowLocked()
	d.mu.Unlock()
	d.net.Hold()
}

func (d *Dashboard) resume() {
	d.mu.Lock()
	d.stopSlowLocked()
	d.mu.Unlock()
	d.net.Resume()
}

// step pauses the network, if it was not, and lets count messages through
// (one if count is 0).
func (d *Dashboard) step(req request) error {
	if req.Count < 0 || req.Count > 1000 {
		return badRequest("count %d is not between 0 and 1000", req.Count)
	}
	d.pause()
	d.net.Release(max(req.Count, 1))
	return nil
}

// slowMotion holds the network and lets rate messages through per second;
// a rate of 0 ends slow motion and resumes the network.
func (d *Dashboard) slowMotion(req request) error {
	if req.Rate < 0 || req.Rate > maxSlowRate || req.Rate != req.Rate {
		return badRequest("rate %v is not between 0 and %d messages per second", req.Rate, maxSlowRate)
	}
	if req.Rate == 0 {
		d.resume()
		return nil
	}
	d.net.Hold()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	d.stopSlowLocked()
	d.slow = req.Rate
	stop := make(chan struct{})
	d.slowStop = stop
	d.wg.Add(1)
	go d.releaseSteadily(time.Duration(float64(time.Second)/req.Rate), stop) // exits when stop or d.done is closed
	return nil
}

// releaseSteadily lets one held message through every interval.
func (d *Dashboard) releaseSteadily(interval time.Duration, stop chan struct{}) {
	defer d.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			d.net.Release(1)
		case <-stop:
			return
		case <-d.done:
			return
		}
	}
}

// stopSlowLocked ends slow motion, if it is on, leaving the network held.
// The caller holds d.mu.
func (d *Dashboard) stopSlowLocked() {
	if d.slowStop != nil {
		close(d.slowStop)
		d.slowStop = nil
	}
	d.slow = 0
}
