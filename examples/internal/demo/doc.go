// Package demo holds the few lines every example under examples/ shares:
// the main function that runs an example and turns its error into an exit
// code, the flags for network faults and the seed, the recorder behind the
// -trace DIR flag, and the live dashboard behind -dashboard ADDR.
//
// It is internal on purpose: an example copied out of this repository
// needs only these small functions copied along with it.
package demo
