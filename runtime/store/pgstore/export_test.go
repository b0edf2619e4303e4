package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Commits returns how many transactions the store's committer has
// committed.
func Commits(s *Store) int64 { return s.commits.Load() }

// Lapse stops s renewing its lease and lets the lease lapse at once, as if
// its process had stopped; Resume lets it renew again.
func Lapse(s *Store) error {
	s.paused.Store(true)
	_, err := s.pool.Exec(context.Background(), `UPDATE members SET expires_at = now() - interval '1 second' WHERE id = $1`, s.member)
	return err
}

// Resume lets s renew its lease again, at once.
func Resume(s *Store) {
	s.paused.Store(false)
	s.kickHeartbeat()
}

// MigrationSQL returns the script that brings a schema to version v.
func MigrationSQL(v int) string { return migrations[v-1].sql }

// Pool returns the pool s reads through.
func Pool(s *Store) *pgxpool.Pool { return s.pool }

// Deafen makes s lose every notification it hears from now on, as if the
// connection that carries them kept failing: only polling finds what they
// said.
func Deafen(s *Store) { s.deaf.Store(true) }

// Member returns the member id and epoch s writes as.
func Member(s *Store) (id, epoch int64) { return s.member, s.epoch.Load() }
