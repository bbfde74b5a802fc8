package mapreduce

// WithCoordinator has Run hand its coordinator to fn as soon as it has
// made it, before any worker starts (Run only). A caller can then serve
// the job's status page (Coordinator.Handler) or read Coordinator.Status
// while Run runs the job. fn runs on Run's goroutine and must return
// promptly; it must not close the coordinator, and must not use it after
// Run returns, when Run has closed it.
func WithCoordinator(fn func(*Coordinator)) Option {
	return optionFunc(func(o *options) { o.onCoordinator = fn })
}
