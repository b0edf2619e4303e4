package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// The reads of mailboxes, statuses and lineage; their writes are in ops.go
// and the functions of schema 2.

// Mailbox implements store.Store.
func (s *Store) Mailbox(ctx context.Context, act flow.ActivationID) ([]store.Message, error) {
	var out []store.Message
	err := s.read(ctx, func() error {
		out = nil
		rows, err := s.pool.Query(ctx, `SELECT seq, name, key, payload, gen FROM messages WHERE act = $1 AND NOT received ORDER BY seq`, act[:])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m store.Message
			var key *string
			if err := rows.Scan(&m.Seq, &m.Name, &key, &m.Payload, &m.Gen); err != nil {
				return err
			}
			if key != nil {
				m.Key = *key
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, s.wrap("mailbox", err)
}

// Status implements store.Store.
func (s *Store) Status(ctx context.Context, act flow.ActivationID, name string) (store.Status, error) {
	st := store.Status{Name: name}
	err := s.read(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT payload, gen FROM statuses WHERE act = $1 AND name = $2`, act[:], name).Scan(&st.Payload, &st.Gen)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("pgstore: status %q of %s: %w", name, act, store.ErrNotFound)
	}
	return st, s.wrap("status", err)
}

// Statuses implements store.Store.
func (s *Store) Statuses(ctx context.Context, act flow.ActivationID) ([]store.Status, error) {
	var out []store.Status
	err := s.read(ctx, func() error {
		out = nil
		rows, err := s.pool.Query(ctx, `SELECT name, payload, gen FROM statuses WHERE act = $1 ORDER BY name COLLATE "C"`, act[:])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var st store.Status
			if err := rows.Scan(&st.Name, &st.Payload, &st.Gen); err != nil {
				return err
			}
			out = append(out, st)
		}
		return rows.Err()
	})
	return out, s.wrap("statuses", err)
}

// Children implements store.Store.
func (s *Store) Children(ctx context.Context, parent flow.ActivationID) ([]store.Activation, error) {
	out, _, _, err := s.listActivations(ctx, "children", `SELECT `+actColumns+` FROM activations a WHERE a.parent = $1 ORDER BY a.id`, parent[:])
	return out, err
}
