package sharedtest_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/internal/pgtest"
	"github.com/asyncflow-go/asyncflow/internal/sharedtest"
)

var (
	binDir   string
	binOnce  sync.Once
	binErr   error
	binPaths = map[string]string{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// bins builds the programs v1 and v2, once per test run.
func bins(t *testing.T) map[string]string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "asyncflow-sharedtest-")
		if binErr != nil {
			return
		}
		for _, b := range []string{"v1", "v2"} {
			out := filepath.Join(binDir, b)
			cmd := exec.Command("go", "build", "-o", out, "github.com/asyncflow-go/asyncflow/internal/sharedtest/"+b)
			if msg, err := cmd.CombinedOutput(); err != nil {
				binErr = fmt.Errorf("go build %s: %v\n%s", b, err, msg)
				return
			}
			binPaths[b] = out
		}
	})
	require.NoError(t, binErr)
	return binPaths
}

// proc is one host process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	log    string // its stderr
	exited chan struct{}
	err    error
}

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// cluster is the processes of one test on one database.
type cluster struct {
	t     *testing.T
	url   string
	bins  map[string]string
	dir   string
	args  []string
	procs []*proc
	n     int
}

func newCluster(t *testing.T, args ...string) *cluster {
	t.Helper()
	url := pgtest.DB(t)
	require.NoError(t, sharedtest.Setup(t.Context(), url))
	c := &cluster{t: t, url: url, bins: bins(t), dir: t.TempDir(), args: args}
	t.Cleanup(func() {
		for _, p := range c.procs {
			if p.alive() {
				_ = p.cmd.Process.Signal(syscall.SIGCONT)
				_ = p.cmd.Process.Kill()
				<-p.exited
			}
		}
		if t.Failed() {
			for _, p := range c.procs {
				b, _ := os.ReadFile(p.log)
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				if len(lines) > 40 {
					lines = lines[len(lines)-40:]
				}
				t.Logf("--- %s (last lines of its log)\n%s", p.name, strings.Join(lines, "\n"))
			}
		}
	})
	return c
}

// start runs a process of a build and waits until it is ready.
func (c *cluster) start(build string, extra ...string) *proc {
	c.t.Helper()
	c.n++
	p := &proc{name: fmt.Sprintf("%s#%d", build, c.n), log: filepath.Join(c.dir, fmt.Sprintf("%s-%d.log", build, c.n)), exited: make(chan struct{})}
	logf, err := os.Create(p.log)
	require.NoError(c.t, err)
	args := append(append([]string{"-db", c.url}, c.args...), extra...)
	p.cmd = exec.Command(c.bins[build], args...)
	p.cmd.Stderr = logf
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(c.t, err)
	require.NoError(c.t, p.cmd.Start())
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "READY") {
				ready <- sc.Text()
			}
		}
	}()
	go func() {
		p.err = p.cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	c.procs = append(c.procs, p)
	select {
	case line := <-ready:
		c.t.Logf("%s: %s", p.name, line)
	case <-p.exited:
		b, _ := os.ReadFile(p.log)
		c.t.Fatalf("%s exited before it was ready: %v\n%s", p.name, p.err, b)
	case <-time.After(60 * time.Second):
		c.t.Fatalf("%s not ready within a minute", p.name)
	}
	return p
}

func (c *cluster) kill(p *proc) {
	c.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop ends a process as a deploy does: SIGTERM, and it closes cleanly.
func (c *cluster) stop(p *proc) {
	c.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		c.t.Fatalf("%s did not stop within 30s", p.name)
	}
	require.NoError(c.t, p.err, "%s exits cleanly", p.name)
}

func (c *cluster) conn() *pgx.Conn {
	c.t.Helper()
	conn, err := pgx.Connect(c.t.Context(), c.url)
	require.NoError(c.t, err)
	c.t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func count(t *testing.T, conn *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, conn.QueryRow(t.Context(), sql, args...).Scan(&n), sql)
	return n
}

// until waits for cond; when it times out it says where the unfinished
// activations are.
func until(t *testing.T, conn *pgx.Conn, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			unfinished(t, conn)
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// unfinished logs, for up to 20 unfinished activations, their state, owner
// and what they wait for.
func unfinished(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT a.start_key, a.state, a.owner, a.owner_epoch,
			m.epoch, m.lapsed, m.left_at IS NOT NULL, m.expires_at < now(),
			(SELECT count(*) FROM asyncflow.entries e WHERE e.act = a.id),
			(SELECT string_agg(encode(w.vow, 'hex') || '=' || v.state || CASE WHEN EXISTS (SELECT 1 FROM asyncflow.timers x WHERE x.vow = w.vow) THEN '(timer)' ELSE '' END, ',')
				FROM asyncflow.waits w JOIN asyncflow.vows v ON v.id = w.vow WHERE w.act = a.id)
		FROM asyncflow.activations a LEFT JOIN asyncflow.members m ON m.id = a.owner
		WHERE a.state <> 4 ORDER BY a.start_key LIMIT 20`)
	if err != nil {
		t.Logf("cannot list unfinished activations: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var state int
		var owner, ownerEpoch, epoch *int64
		var lapsed, left, expired *bool
		var entries int
		var waits *string
		if err := rows.Scan(&key, &state, &owner, &ownerEpoch, &epoch, &lapsed, &left, &expired, &entries, &waits); err != nil {
			t.Logf("scan: %v", err)
			return
		}
		t.Logf("unfinished %s: state %d owner %v/%v (member epoch %v lapsed %v left %v expired %v) %d entries, waits %v",
			key, state, deref(owner), deref(ownerEpoch), deref(epoch), deref(lapsed), deref(left), deref(expired), entries, deref(waits))
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return "-"
	}
	return *p
}

// outcomes returns the outcome of every activation, by account, decoded.
func outcomes(t *testing.T, conn *pgx.Conn) map[string]string {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT a.start_key, a.state, v.state, v.payload FROM asyncflow.activations a JOIN asyncflow.vows v ON v.id = a.outcome`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var key string
		var state, vstate int
		var payload []byte
		require.NoError(t, rows.Scan(&key, &state, &vstate, &payload))
		require.Equal(t, 4, state, "%s is done", key)
		require.Equal(t, 1, vstate, "%s's outcome is fulfilled", key)
		s, err := decodeString(payload)
		require.NoError(t, err, key)
		out[key] = s
	}
	require.NoError(t, rows.Err())
	return out
}

// checkEffects checks, for flows of rounds rounds, that every logical
// effect was made once — one key for each step of each account — with the
// arguments the chain of results before it gives, by every execution of its
// key; and that each outcome is what the last effect returned.
func checkEffects(t *testing.T, conn *pgx.Conn, flows, rounds int, outs map[string]string) {
	t.Helper()
	ctx := t.Context()
	type effect struct {
		key     string
		prev    int64
		receipt int64
		build   string
	}
	byStep := map[string][]effect{}
	rows, err := conn.Query(ctx, `SELECT key, account, step, prev, receipt, build FROM testhost.effects`)
	require.NoError(t, err)
	for rows.Next() {
		var e effect
		var account string
		var step int
		require.NoError(t, rows.Scan(&e.key, &account, &step, &e.prev, &e.receipt, &e.build))
		byStep[fmt.Sprintf("%s/%d", account, step)] = append(byStep[fmt.Sprintf("%s/%d", account, step)], e)
	}
	rows.Close()
	require.NoError(t, rows.Err())
	assert.Len(t, byStep, flows*rounds*2, "one effect per step of each flow")
	assert.Zero(t, count(t, conn, `SELECT count(*) FROM testhost.attempts a JOIN testhost.effects e USING (key)
		WHERE a.account <> e.account OR a.step <> e.step OR a.prev <> e.prev`),
		"every execution of a key carries the same call: no result reached the world before it was durable")
	for i := range flows {
		account := sharedtest.Account(i)
		var prev int64
		for r := range rounds {
			for half := range 2 {
				step := 2*r + half
				es := byStep[fmt.Sprintf("%s/%d", account, step)]
				if !assert.Len(t, es, 1, "%s step %d: one key, one effect", account, step) {
					return
				}
				assert.Equal(t, prev, es[0].prev, "%s step %d: its argument is what came before", account, step)
				prev = es[0].receipt
				if half == 0 {
					prev ^= sharedtest.Answer(account, r)
				}
			}
		}
		out := outs[fmt.Sprintf("work-%03d", i)]
		_, got, _ := strings.Cut(out, ":")
		assert.Equal(t, fmt.Sprint(prev), got, "%s: the outcome is what its last effect returned", account)
	}
}

// checkFencing checks the audit of every log entry: it was appended by the
// activation's owner at the owner's current lease, and — where the server
// records commit times — committed before any takeover of that lease.
func checkFencing(t *testing.T, conn *pgx.Conn) (entries, fences int) {
	t.Helper()
	entries = count(t, conn, `SELECT count(*) FROM testhost.audit_entries`)
	fences = count(t, conn, `SELECT count(*) FROM testhost.audit_fences`)
	assert.Positive(t, entries)
	assert.Zero(t, count(t, conn, `SELECT count(*) FROM testhost.audit_entries
		WHERE owner IS NULL OR writer <> 'asyncflow member ' || owner OR writer_epoch IS DISTINCT FROM owner_epoch`),
		"every entry was appended by the activation's owner, at its current lease")
	var track string
	require.NoError(t, conn.QueryRow(t.Context(), `SHOW track_commit_timestamp`).Scan(&track))
	if track != "on" {
		t.Log("the server does not record commit times: the order of appends and takeovers is not checked")
		return entries, fences
	}
	assert.Zero(t, count(t, conn, `SELECT count(*) FROM testhost.audit_entries e
		JOIN testhost.audit_fences f ON 'asyncflow member ' || f.member = e.writer AND f.old_epoch = e.writer_epoch
		WHERE pg_xact_commit_timestamp(xid(e.xid)) > pg_xact_commit_timestamp(xid(f.xid))`),
		"no append committed after its writer's lease was taken over")
	return entries, fences
}
