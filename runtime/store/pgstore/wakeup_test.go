package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/pgtest"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/pgstore"
)

// TestListenerLost ends the session that hears the other processes, as a
// network failure would: the next poll says events may have been missed,
// and the store hears settlements again once it has connected anew.
func TestListenerLost(t *testing.T) {
	ctx := t.Context()
	url := pgtest.DB(t)
	opts := pgstore.Options{Poll: 100 * time.Millisecond}
	a, b := open(t, url, opts), open(t, url, opts)
	member, _ := a.Member()
	conn := connect(t, url)
	var ended int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'asyncflow member ' || $1::bigint AND query LIKE 'LISTEN%'`, member).Scan(&ended))
	require.Equal(t, 1, ended, "the listening session")
	deadline := time.After(20 * time.Second)
	for missed := false; !missed; {
		select {
		case ev := <-a.Events():
			missed = ev.Kind == store.Poll && ev.Missed
		case <-deadline:
			t.Fatal("no poll said events may have been missed")
		}
	}
	// Connected again: a settlement in b is heard (the first may come
	// before the new LISTEN, so settle until one is).
	for heard := false; !heard; {
		v := flow.NewVowID()
		require.NoError(t, store.Apply(ctx, b, &store.CreateVow{ID: v, Gen: 1}, &store.SettleVow{ID: v, State: store.VowFulfilled, Gen: 1}))
		wait := time.After(500 * time.Millisecond)
	drain:
		for {
			select {
			case ev := <-a.Events():
				if ev.Kind == store.VowSettled && ev.Vow == v {
					heard = true
					break drain
				}
			case <-wait:
				break drain
			case <-deadline:
				t.Fatal("settlements are not heard again")
			}
		}
	}
}

// TestWakeWithoutNotifications runs a flow in process A that waits for a
// vow process B settles, while A hears no notification at all: polling
// finds the settlement, and the flow runs on and finishes.
func TestWakeWithoutNotifications(t *testing.T) {
	ctx := t.Context()
	url := pgtest.DB(t)
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		v, err := h.Ask(fc, a)
		if err != nil {
			return "", err
		}
		answer, err := flow.Await(fc, v)
		if err != nil {
			return "", err
		}
		return h.Echo(fc, answer)
	}
	type proc struct {
		st   *pgstore.Store
		rt   *runtime.Runtime
		host *testkit.Recorder
		h    testkit.Handle[string, string]
	}
	start := func(build string) *proc {
		p := &proc{st: open(t, url, pgstore.Options{Lease: 2 * time.Second, Poll: 200 * time.Millisecond})}
		var err error
		p.rt, err = runtime.Open(ctx, "", runtime.Options{Store: p.st, Build: build})
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.rt.Close(context.Background()) })
		p.host = &testkit.Recorder{NewVow: func(ctx context.Context) (flow.Vow[string], error) { return runtime.NewVow[string](ctx, p.rt) }}
		testkit.ProvideTeller(p.rt, "host", p.host)
		p.h = testkit.Register(p.rt, "test.F", body)
		require.NoError(t, p.rt.Start(ctx))
		return p
	}
	a, b := start("a"), start("b")
	out, err := a.h.Start(ctx, testkit.TellerRef("host"), "q")
	require.NoError(t, err)
	var asked flow.VowID
	require.Eventually(t, func() bool {
		var ok bool
		asked, ok = a.host.Asked("q")
		return ok
	}, 20*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		list, err := a.rt.Admin().List(ctx, runtime.ListOptions{State: runtime.StateSuspended})
		require.NoError(t, err)
		return len(list) == 1 && list[0].Resident
	}, 20*time.Second, 10*time.Millisecond, "parked in A")

	pgstore.Deafen(a.st)
	require.NoError(t, runtime.Resolve(ctx, b.rt, flow.VowOf[string](asked), "yes"))
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	got, err := runtime.Wait(wctx, b.rt, out)
	require.NoError(t, err)
	assert.Equal(t, "yes", got)
	echoed := append(a.host.Calls(), b.host.Calls()...)
	var n int
	for _, c := range echoed {
		if c.Method == "Echo" {
			n++
		}
	}
	assert.Equal(t, 1, n, "the step after the wait, made once")
}
