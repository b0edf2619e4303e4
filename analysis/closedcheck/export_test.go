package closedcheck

// FailAfterFacts makes the analysis of the packages named panic once their
// facts are exported, as a bug would, until restore is called.
func FailAfterFacts(paths ...string) (restore func()) {
	faultHook = func(path string) {
		for _, p := range paths {
			if p == path {
				panic("simulated fault")
			}
		}
	}
	return func() { faultHook = nil }
}
