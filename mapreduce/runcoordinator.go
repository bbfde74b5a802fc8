package mapreduce

// WithCoordinator has Run hand its coordinator to fn as soon as it has
// made it, before any worker starts. A caller can then serve
// the job's status page (Coordinator.Handler) or read Coordinator.Status
// while Run runs the job, and after it returns: the coordinator is closed
// then, and both show the job as it ended. fn runs on Run's goroutine and
// must return promptly; it must not close the coordinator.
func WithCoordinator(fn func(*Coordinator)) RunOption {
	return runFunc(func(o *runOptions) { o.onCoordinator = fn })
}
