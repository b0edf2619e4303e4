//go:build race

package sqlitestore_test

// Under the race detector every process runs several times slower: the
// checkpoint-kill test kills fewer times, to stay within its bound.
func init() { raceDetector = true }
