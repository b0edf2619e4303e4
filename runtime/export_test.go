package runtime

// SetCloseHook makes Close call f right after it has marked the runtime
// closing, and returns a function that undoes it. Tests use it to widen the
// moment a host call may run into a closing runtime.
func SetCloseHook(f func()) (undo func()) {
	testHookClosing = f
	return func() { testHookClosing = nil }
}
