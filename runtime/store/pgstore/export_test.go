package pgstore

// Commits returns how many transactions the store's committer has
// committed.
func Commits(s *Store) int64 { return s.commits.Load() }
