//go:build linux

package netns

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Socket options of AF_PACKET sockets (linux/if_packet.h), which the
// syscall package does not name.
const (
	packetVnetHdr        = 15 // frames carry a virtio_net_hdr: offloads survive the trip
	packetIgnoreOutgoing = 23 // do not read back the frames this socket sends
)

const (
	// maxFrame is the largest frame a delay line reads: a GSO segment of
	// up to 64 KiB, its headers, and the virtio_net_hdr in front.
	maxFrame = 128 << 10
	// queueLen bounds the frames a direction holds while they wait out the
	// delay. Beyond it, new frames are dropped, as a router's full queue
	// drops them; 4096 frames of 1.5 KB are 6 MB in flight, far more than a
	// test's traffic through 100 ms.
	queueLen = 4096
)

// delayLine joins two interfaces of one namespace like a cable with a
// delay: every frame that arrives on one is sent out of the other after d.
// It is made of two AF_PACKET sockets and, per direction, a reader and a
// writer goroutine with a bounded queue between them.
//
//	a ── read ─▶ queue (frame, due) ─▶ wait until due ─▶ write ── b
//	a ◀─ write ── wait until due ◀─ queue ◀──────────── read ◀── b
type delayLine struct {
	a, b *os.File
	d    time.Duration
	stop chan struct{} // closed by Close
	wg   sync.WaitGroup

	mu      sync.Mutex // protects dropped
	dropped int64      // frames dropped on a full queue or a failed write
}

type frame struct {
	data []byte
	due  time.Time
}

// newDelayLine starts a delay line of d between interfaces ifA and ifB of
// namespace ns.
func newDelayLine(ns, ifA, ifB string, d time.Duration) (*delayLine, error) {
	l := &delayLine{d: d, stop: make(chan struct{})}
	err := inNamespace(ns, func() error {
		var err error
		if l.a, err = packetSocket(ifA); err != nil {
			return err
		}
		if l.b, err = packetSocket(ifB); err != nil {
			l.a.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	l.pump(l.a, l.b)
	l.pump(l.b, l.a)
	return l, nil
}

// packetSocket opens a raw AF_PACKET socket on the interface ifName of the
// calling thread's namespace, with frames prefixed by a virtio_net_hdr.
func packetSocket(ifName string) (*os.File, error) {
	ifi, err := net.InterfaceByName(ifName)
	if err != nil {
		return nil, fmt.Errorf("netns: %s: %w", ifName, err)
	}
	// Protocol 0 receives nothing until bind names the interface, so no
	// frame of another interface slips in between.
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("netns: packet socket: %w", err)
	}
	setup := func() error {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_PACKET, packetVnetHdr, 1); err != nil {
			return fmt.Errorf("PACKET_VNET_HDR: %w", err)
		}
		if err := syscall.SetsockoptInt(fd, syscall.SOL_PACKET, packetIgnoreOutgoing, 1); err != nil {
			return fmt.Errorf("PACKET_IGNORE_OUTGOING: %w", err)
		}
		return syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_ALL), Ifindex: ifi.Index})
	}
	if err := setup(); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("netns: packet socket on %s: %w", ifName, err)
	}
	// A non-blocking descriptor joins the runtime's poller: Read blocks a
	// goroutine, not a thread, and Close unblocks it.
	return os.NewFile(uintptr(fd), "packet:"+ifName), nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// pump forwards frames from src to dst after the delay.
func (l *delayLine) pump(src, dst *os.File) {
	q := make(chan frame, queueLen) // bounded: see queueLen
	l.wg.Add(2)
	go func() { // exits when src is closed
		defer l.wg.Done()
		defer close(q)
		buf := make([]byte, maxFrame)
		for {
			n, err := src.Read(buf)
			if err != nil {
				if errors.Is(err, os.ErrClosed) {
					return
				}
				continue // a frame lost in the kernel (ENETDOWN while the link is cut)
			}
			f := frame{data: append([]byte(nil), buf[:n]...), due: time.Now().Add(l.d)}
			select {
			case q <- f:
			default:
				l.drop()
			}
		}
	}()
	go func() { // exits when q is closed, after its reader
		defer l.wg.Done()
		t := time.NewTimer(0)
		defer t.Stop()
		for f := range q {
			if wait := time.Until(f.due); wait > 0 {
				t.Reset(wait)
				select {
				case <-t.C:
				case <-l.stop:
					continue // drain without waiting
				}
			}
			if _, err := dst.Write(f.data); err != nil {
				l.drop() // the other side is down (a cut link), or closed
			}
		}
	}()
}

func (l *delayLine) drop() {
	l.mu.Lock()
	l.dropped++
	l.mu.Unlock()
}

// Dropped returns how many frames the line has dropped.
func (l *delayLine) Dropped() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Close stops the line and waits for its goroutines.
func (l *delayLine) Close() error {
	close(l.stop)
	l.a.Close()
	l.b.Close()
	l.wg.Wait()
	return nil
}
