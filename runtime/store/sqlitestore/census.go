package sqlitestore

import (
	"context"
	"strings"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

var (
	_ store.Censuser = (*Store)(nil)
	_ store.Backuper = (*Store)(nil)
)

const qCensus = `SELECT flow, state, count(*) FROM activations INDEXED BY activations_live WHERE state IN (1, 2, 3) GROUP BY state, flow ORDER BY flow, state`

// Census implements store.Censuser.
func (s *Store) Census(ctx context.Context) ([]store.FlowCount, error) {
	var out []store.FlowCount
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, qCensus)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c store.FlowCount
			if err := rows.Scan(&c.Flow, &c.State, &c.Count); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, s.wrap("census", err)
}

var _ store.LogReader = (*Store)(nil)

// Logs implements store.LogReader: one query for all of ids.
func (s *Store) Logs(ctx context.Context, ids []flow.ActivationID, fn func(flow.ActivationID, []store.Entry, error)) error {
	if len(ids) == 0 {
		return nil
	}
	set := store.NewLogSet("sqlitestore: log "+s.path, len(ids))
	err := s.read(ctx, func(q querier) error {
		args := make([]any, len(ids))
		for i := range ids {
			args[i] = ids[i][:]
		}
		rows, err := q.QueryContext(ctx, `SELECT act, step, kind, gen, at_ns, payload FROM entries WHERE act IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY act, step`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var raw []byte
			var e store.Entry
			var at int64
			if err := rows.Scan(&raw, &e.Step, &e.Kind, &e.Gen, &at, &e.Payload); err != nil {
				return scanErr(err)
			}
			id, err := idFrom(raw, "activation")
			if err != nil {
				return err
			}
			e.At = timeOf(at)
			set.Add(id, e)
		}
		return rows.Err()
	})
	if err != nil {
		return s.wrap("logs", err)
	}
	set.Each(ids, fn)
	return nil
}
