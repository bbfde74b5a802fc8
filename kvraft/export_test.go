package kvraft

// DisableDuplicateDetection makes s submit writes without the clerks'
// sessions, so that a resent write applies again: the bug the
// linearizability checker must catch.
func DisableDuplicateDetection(s *Server) { s.noDedup = true }
