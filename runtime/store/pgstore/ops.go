package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// stmt is one statement of an op: its SQL, its arguments, and what reads
// its answer into the op's results (nil for a statement without one).
type stmt struct {
	sql  string
	args []any
	scan func(pgx.Row) error
}

const (
	// qAppendOne writes one entry: plain SQL, which costs a lone step less
	// than a function would. It checks, with a snapshot taken after the
	// transaction's fence lock, that the member is at its epoch and the
	// activation is its own or no one's, and refuses it otherwise.
	qAppendOne = `INSERT INTO entries (act, step, kind, gen, at_ns, payload)
		SELECT $3::bytea, $4::int8, $5::int4, $6::int8, $7::int8, $8::bytea
		WHERE CASE
			WHEN NOT EXISTS (SELECT 1 FROM members m WHERE m.id = $1 AND m.epoch = $2 AND m.left_at IS NULL)
				THEN refuse_append('member', $1, $2, $3)
			WHEN NOT EXISTS (SELECT 1 FROM activations a WHERE a.id = $3 AND a.state <> 4
				AND (a.owner IS NULL OR (a.owner = $1 AND a.owner_epoch = $2)))
				THEN refuse_append('activation', $1, $2, $3)
			ELSE true END`
	// qFenceLock is the fence's lock alone, for a transaction whose first
	// write checks the member's epoch itself.
	qFenceLock   = `SELECT pg_advisory_xact_lock_shared(member_key($1))`
	qAppend      = `SELECT append_log($1, $2, $3, $4::bytea[], $5::int8[], $6::int4[], $7::int8[], $8::int8[], $9::bytea[])`
	qCreateAct   = `SELECT * FROM create_activation($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	qInsertVow   = `INSERT INTO vows (id, kind, state, gen) VALUES ($1, $2, 0, $3)`
	qInsertTimer = `INSERT INTO timers (deadline, vow) VALUES ($1, $2)`
	qSettle      = `SELECT settled, missing, kind, waiters FROM settle_vow($1, $2, $3, $4, $5, $6, $7)`
	qWatch       = `SELECT idx, missing, vstate, vpayload, vgen FROM watch($1, $2, $3, $4, $5, $6, $7)`
	qSetState    = `SELECT set_state($1, $2, $3, $4, $5, $6, $7, $8)`
	qFinish      = `SELECT finished, outcome, waiters FROM finish($1, $2, $3, $4, $5, $6, $7, $8)`
	qPurge       = `SELECT purge($1, $2)`
	qContinue    = `SELECT continued, run, unread FROM continue_activation($1, $2, $3, $4, $5, $6, $7)`
	qEnsureVow   = `WITH ins AS (INSERT INTO vows (id, kind, state, gen) VALUES ($1, $2, 0, $3) ON CONFLICT (id) DO NOTHING RETURNING 1)
		SELECT count(*) > 0 FROM ins`
	qRequestCancel = `SELECT result, waiters FROM request_cancel($1, $2, $3, $4, $5, $6)`
	qFireDue       = `DELETE FROM timers t
		USING (SELECT deadline, vow FROM timers WHERE deadline <= $1 ORDER BY deadline, vow LIMIT $2 FOR UPDATE SKIP LOCKED) d
		WHERE t.deadline = d.deadline AND t.vow = d.vow
		RETURNING t.deadline, t.vow`
	qSettleTimers = `SELECT ord, settled, waiters FROM settle_timers($1, $2, $3, $4, $5)`
	qSend         = `SELECT result, seq, vow, waiters FROM send_message($1, $2, $3, $4, $5, $6, $7, $8)`
	qReceive      = `SELECT delivered, seq FROM receive($1, $2, $3, $4, $5)`
	qPublish      = `INSERT INTO statuses (act, name, payload, gen) VALUES ($1, $2, $3, $4)
		ON CONFLICT (act, name) DO UPDATE SET payload = excluded.payload, gen = excluded.gen`
	qFence   = `SELECT fence($1, $2)`
	qRelease = `UPDATE activations SET owner = NULL, owner_epoch = NULL WHERE id = $1 AND owner = $2 AND owner_epoch = $3`
)

// writer is who writes: the handle's member at its epoch, and its build.
type writer struct {
	member, epoch int64
	build         string
}

// writer is the handle writing at epoch.
func (s *Store) writer(epoch int64) writer {
	return writer{member: s.member, epoch: epoch, build: *s.build.Load()}
}

func (w writer) fenceStmt() stmt {
	return stmt{sql: qFence, args: []any{w.member, w.epoch}}
}

// errMemberFenced is the error of a write by a handle whose lease lapsed and
// was taken over.
var errMemberFenced = fmt.Errorf("%w: this process's lease lapsed and was taken over", store.ErrFenced)

// fromServer turns the errors the store's functions raise into the store
// package's, keeping the server's error in the chain.
func fromServer(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "AF101":
		return fmt.Errorf("%w: %w", errMemberFenced, err)
	case "AF102":
		return fmt.Errorf("%w: %w", store.ErrFenced, err)
	case "AF103":
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return err
}

// appendStmt writes a run of appends with one statement, which fences the
// transaction first if fence is set.
func appendStmt(w writer, run []*store.Append, fence bool) stmt {
	if len(run) == 1 {
		a := run[0]
		return stmt{sql: qAppendOne, args: []any{w.member, w.epoch, a.Act[:], a.Entry.Step, int32(a.Entry.Kind), a.Entry.Gen, nsOf(a.Entry.At), notNil(a.Entry.Payload)}}
	}
	acts := make([][]byte, len(run))
	steps := make([]int64, len(run))
	kinds := make([]int32, len(run))
	gens := make([]int64, len(run))
	ats := make([]int64, len(run))
	payloads := make([][]byte, len(run))
	for i, a := range run {
		acts[i] = a.Act[:]
		steps[i], kinds[i], gens[i], payloads[i] = a.Entry.Step, int32(a.Entry.Kind), a.Entry.Gen, notNil(a.Entry.Payload)
		ats[i] = nsOf(a.Entry.At)
	}
	return stmt{sql: qAppend, args: []any{fence, w.member, w.epoch, acts, steps, kinds, gens, ats, payloads}}
}

// queueAppends queues a run of appends on a batch.
func queueAppends(b *pgx.Batch, w writer, run []*store.Append, fence bool) {
	name := "append"
	if len(run) == 1 {
		name = "append to " + run[0].Act.String()
		if fence {
			queue(b, "fence", stmt{sql: qFenceLock, args: []any{w.member}})
		}
	}
	queue(b, name, appendStmt(w, run, fence))
}

// queueOp queues an op's statements on a batch, with the callbacks that
// fill in its results when the answers arrive.
func queueOp(b *pgx.Batch, w writer, op store.Op) {
	for _, st := range opStmts(w, op) {
		queue(b, store.OpName(op), st)
	}
}

func queue(b *pgx.Batch, name string, st stmt) {
	qq := b.Queue(st.sql, st.args...)
	scan := st.scan
	qq.Fn = func(br pgx.BatchResults) error {
		var err error
		if scan != nil {
			err = scan(br.QueryRow())
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, fromServer(err))
		}
		return nil
	}
}

// applyStmt runs one statement inside a transaction.
func applyStmt(ctx context.Context, tx pgx.Tx, name string, st stmt) error {
	var err error
	if st.scan != nil {
		err = st.scan(tx.QueryRow(ctx, st.sql, st.args...))
	} else {
		_, err = tx.Exec(ctx, st.sql, st.args...)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, fromServer(err))
	}
	return nil
}

// applyOp applies an op inside a transaction, statement by statement.
func applyOp(ctx context.Context, tx pgx.Tx, w writer, op store.Op) error {
	if ft, ok := op.(*store.FireTimers); ok {
		if err := fireTimers(ctx, tx, w, ft); err != nil {
			return fmt.Errorf("%s: %w", store.OpName(op), fromServer(err))
		}
		return nil
	}
	for _, st := range opStmts(w, op) {
		if err := applyStmt(ctx, tx, store.OpName(op), st); err != nil {
			return err
		}
	}
	return nil
}

// opStmts gives the statements of an op other than FireTimers. Each scan
// sets every result field, so an op applied again starts afresh.
func opStmts(w writer, op store.Op) []stmt {
	switch op := op.(type) {
	case *store.Append:
		return []stmt{appendStmt(w, []*store.Append{op}, false)}
	case *store.CreateActivation:
		a := &op.Activation
		var key, parent any
		if a.StartKey != "" {
			key = a.StartKey
		}
		if !a.Parent.IsZero() {
			parent = a.Parent[:]
		}
		return []stmt{{sql: qCreateAct, args: []any{a.ID[:], a.Flow, key, notNil(a.Args), a.Outcome[:], a.CreatedGen, nsOf(a.Created), parent, w.member, w.epoch},
			scan: func(row pgx.Row) error {
				op.Existing = nil
				ex, err := scanActivation(row)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				if err != nil {
					return err
				}
				op.Existing = &ex
				return nil
			}}}
	case *store.CreateVow:
		sts := []stmt{{sql: qInsertVow, args: []any{op.ID[:], int16(op.Kind), op.Gen}}}
		if !op.Deadline.IsZero() {
			sts = append(sts, stmt{sql: qInsertTimer, args: []any{op.Deadline.UnixNano(), op.ID[:]}})
		}
		return sts
	case *store.SettleVow:
		return []stmt{{sql: qSettle, args: []any{op.ID[:], int16(op.State), op.Payload, op.Gen, nsOf(op.At), op.HostOnly, w.member},
			scan: func(row pgx.Row) error {
				op.Settled, op.Missing, op.Kind, op.Waiters = false, false, store.HostVow, nil
				var raw [][]byte
				var kind int16
				if err := row.Scan(&op.Settled, &op.Missing, &kind, &raw); err != nil {
					return err
				}
				op.Kind = store.VowKind(kind)
				var err error
				op.Waiters, err = activationIDs(raw)
				return err
			}}}
	case *store.Watch:
		vows := make([][]byte, len(op.Vows))
		for i := range op.Vows {
			vows[i] = op.Vows[i][:]
		}
		return []stmt{{sql: qWatch, args: []any{op.Act[:], vows, op.Suspend, op.Gen, nsOf(op.At), w.member, w.epoch},
			scan: func(row pgx.Row) error {
				op.Index, op.Vow, op.Missing = -1, store.Vow{}, -1
				var idx, missing int32
				var state *int16
				var payload []byte
				var gen *int64
				if err := row.Scan(&idx, &missing, &state, &payload, &gen); err != nil {
					return err
				}
				op.Index, op.Missing = int(idx), int(missing)
				if op.Index >= 0 {
					if op.Index >= len(op.Vows) || state == nil || gen == nil {
						return fmt.Errorf("%w: watch answered vow %d of %d", store.ErrCorrupt, op.Index, len(op.Vows))
					}
					op.Vow = store.Vow{ID: op.Vows[op.Index], State: store.VowState(*state), Payload: payload, Gen: *gen}
				}
				return nil
			}}}
	case *store.SetState:
		var failure any
		if op.State == store.Failed {
			failure = notNil(op.Failure)
		}
		return []stmt{{sql: qSetState, args: []any{op.Act[:], int16(op.State), failure, op.Gen, nsOf(op.At), w.member, w.epoch, w.build}}}
	case *store.Purge:
		limit := op.Limit
		if limit <= 0 {
			limit = store.DefaultLimit
		}
		return []stmt{{sql: qPurge, args: []any{nsOf(op.Before), int32(limit)},
			scan: func(row pgx.Row) error {
				var n int32
				err := row.Scan(&n)
				op.Purged = int(n)
				return err
			}}}
	case *store.Finish:
		return []stmt{{sql: qFinish, args: []any{op.Act[:], int16(op.State), op.Payload, op.Gen, nsOf(op.At), op.KeepLog, w.member, w.epoch},
			scan: func(row pgx.Row) error {
				op.Finished, op.Outcome, op.Waiters = false, flow.VowID{}, nil
				var outcome []byte
				var raw [][]byte
				if err := row.Scan(&op.Finished, &outcome, &raw); err != nil {
					return err
				}
				if !op.Finished {
					return nil
				}
				var err error
				if op.Outcome, err = idFrom(outcome, "outcome vow"); err != nil {
					return err
				}
				op.Waiters, err = activationIDs(raw)
				return err
			}}}
	case *store.Send:
		return []stmt{sendStmt(w, op)}
	case *store.Receive:
		return []stmt{{sql: qReceive, args: []any{op.Act[:], op.Name, op.Vow[:], op.Gen, w.member},
			scan: func(row pgx.Row) error {
				op.Delivered, op.Seq = false, 0
				return row.Scan(&op.Delivered, &op.Seq)
			}}}
	case *store.EnsureVow:
		return []stmt{{sql: qEnsureVow, args: []any{op.ID[:], int16(op.Kind), op.Gen},
			scan: func(row pgx.Row) error { return row.Scan(&op.Created) }}}
	case *store.RequestCancel:
		return []stmt{{sql: qRequestCancel, args: []any{op.Act[:], op.Vow[:], notNil(op.Payload), op.Gen, nsOf(op.At), w.member},
			scan: func(row pgx.Row) error {
				op.Result, op.Waiters = 0, nil
				var result int16
				var raw [][]byte
				if err := row.Scan(&result, &raw); err != nil {
					return err
				}
				op.Result = store.CancelResult(result)
				var err error
				op.Waiters, err = activationIDs(raw)
				return err
			}}}
	case *store.Publish:
		return []stmt{{sql: qPublish, args: []any{op.Act[:], op.Name, notNil(op.Payload), op.Gen}}}
	case *store.Continue:
		receivers := make([][]byte, len(op.Receivers))
		for i := range op.Receivers {
			receivers[i] = op.Receivers[i][:]
		}
		return []stmt{{sql: qContinue, args: []any{op.Act[:], notNil(op.Args), op.Gen, nsOf(op.At), receivers, w.member, w.epoch},
			scan: func(row pgx.Row) error {
				var run, unread int32
				err := row.Scan(&op.Continued, &run, &unread)
				op.Run, op.Unread = int(run), int(unread)
				return err
			}}}
	}
	panic(fmt.Sprintf("pgstore: unknown op %T", op))
}

func sendStmt(w writer, op *store.Send) stmt {
	var key any
	if op.Key != "" {
		key = op.Key
	}
	return stmt{sql: qSend, args: []any{op.Act[:], op.Flow, op.Name, key, notNil(op.Payload), op.Gen, nsOf(op.At), w.member},
		scan: func(row pgx.Row) error {
			op.Result, op.Seq, op.Vow, op.Waiters = 0, 0, flow.VowID{}, nil
			var result int32
			var vow []byte
			var raw [][]byte
			if err := row.Scan(&result, &op.Seq, &vow, &raw); err != nil {
				return err
			}
			op.Result = store.SendResult(result)
			if op.Result < store.Queued || op.Result > store.OtherFlow {
				return fmt.Errorf("%w: send answered %d", store.ErrCorrupt, result)
			}
			if op.Result != store.Delivered {
				return nil
			}
			var err error
			if op.Vow, err = idFrom(vow, "receiver vow"); err != nil {
				return err
			}
			op.Waiters, err = activationIDs(raw)
			return err
		}}
}

// fireTimers fires due timers: it takes them, skipping those another
// transaction is firing, encodes their deadlines and settles their vows.
func fireTimers(ctx context.Context, tx pgx.Tx, w writer, op *store.FireTimers) error {
	op.Fired = nil
	limit := op.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	type due struct {
		deadline int64
		vow      flow.VowID
	}
	rows, err := tx.Query(ctx, qFireDue, op.Now.UnixNano(), limit)
	if err != nil {
		return err
	}
	var dues []due
	for rows.Next() {
		var d due
		var b []byte
		if err := rows.Scan(&d.deadline, &b); err != nil {
			rows.Close()
			return err
		}
		if d.vow, err = idFrom(b, "timer vow"); err != nil {
			rows.Close()
			return err
		}
		dues = append(dues, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(dues) == 0 {
		return nil
	}
	slices.SortFunc(dues, func(a, b due) int {
		if a.deadline != b.deadline {
			return cmpInt(a.deadline, b.deadline)
		}
		return bytes.Compare(a.vow[:], b.vow[:])
	})
	vows := make([][]byte, len(dues))
	payloads := make([][]byte, len(dues))
	for i, d := range dues {
		vows[i] = d.vow[:]
		payloads[i] = op.EncodeDeadline(unixNano(d.deadline))
	}
	rows, err = tx.Query(ctx, qSettleTimers, vows, payloads, op.Gen, nsOf(op.Now), w.member)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ord int32
		var settled bool
		var raw [][]byte
		if err := rows.Scan(&ord, &settled, &raw); err != nil {
			return err
		}
		if !settled {
			continue
		}
		if ord < 0 || int(ord) >= len(dues) {
			return fmt.Errorf("%w: timer %d of %d", store.ErrCorrupt, ord, len(dues))
		}
		waiters, err := activationIDs(raw)
		if err != nil {
			return err
		}
		op.Fired = append(op.Fired, store.Fired{Vow: dues[ord].vow, Payload: payloads[ord], Waiters: waiters})
	}
	return rows.Err()
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// notNil gives PostgreSQL an empty bytea rather than NULL for a nil slice.
func notNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
