//go:build race

package reliable_test

// raceEnabled is true when the race detector is on. It slows the protocol
// about twentyfold, so the long tests send fewer messages (see
// messagesEachWay).
const raceEnabled = true
