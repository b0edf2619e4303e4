package adminhttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/adminhttp"
)

// served runs a runtime with one suspended activation, keyed "order-1",
// and its admin handler under /ops/.
func served(t *testing.T, token string) (*runtime.Runtime, *httptest.Server, flow.ActivationID) {
	t.Helper()
	ctx := t.Context()
	rt, err := runtime.Open(ctx, filepath.Join(t.TempDir(), "app.db"), runtime.Options{Build: "b1"})
	require.NoError(t, err)
	rec := &testkit.Recorder{NewVow: func(ctx context.Context) (flow.Vow[string], error) { return runtime.NewVow[string](ctx, rt) }}
	testkit.ProvideTeller(rt, "host", rec)
	h := testkit.Register(rt, "ops.Ask", func(fc flow.Context, tl testkit.Teller, a string) (string, error) {
		v, err := tl.Ask(fc, "approve "+a)
		if err != nil {
			return "", err
		}
		return flow.Await(fc, v)
	})
	require.NoError(t, rt.Start(ctx))
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	v, err := h.StartWithID(ctx, "order-1", testkit.TellerRef("host"), "a")
	require.NoError(t, err)
	var id flow.ActivationID
	require.Eventually(t, func() bool {
		a, err := rt.Admin().Find(ctx, v.ID().String())
		id = a.ID
		return err == nil && a.State == runtime.StateSuspended
	}, 10*time.Second, 5*time.Millisecond)
	mux := http.NewServeMux()
	mux.Handle("/ops/", http.StripPrefix("/ops", adminhttp.Handler(rt.Admin(), adminhttp.Options{Token: token})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return rt, srv, id
}

func TestTokenGuardsTheAPI(t *testing.T) {
	rt, srv, id := served(t, "tok")
	ctx := t.Context()
	c := &adminhttp.Client{Base: srv.URL + "/ops/", Token: "tok"}
	a, err := c.Find(ctx, "order-1")
	require.NoError(t, err)
	assert.Equal(t, id, a.ID)
	assert.True(t, a.Live() && a.Registered, "a running process says whether it registers the flow")

	for _, bad := range []*adminhttp.Client{{Base: srv.URL + "/ops/"}, {Base: srv.URL + "/ops/", Token: "nope"}} {
		_, err := bad.List(ctx, runtime.ListOptions{})
		assert.ErrorIs(t, err, adminhttp.ErrUnauthorized, "reads need the token once one is set")
		assert.ErrorIs(t, bad.Terminate(ctx, id), adminhttp.ErrUnauthorized)
		assert.ErrorIs(t, bad.RequestCancel(ctx, id, "no"), adminhttp.ErrUnauthorized)
	}
	got, err := c.Find(ctx, id.String())
	require.NoError(t, err)
	assert.Equal(t, runtime.StateSuspended, got.State, "nothing changed")

	_, err = c.Find(ctx, "order-2")
	assert.ErrorIs(t, err, runtime.ErrUnknownActivation)
	assert.ErrorIs(t, c.Retry(ctx, id), runtime.ErrNotFailed)
	require.NoError(t, c.RequestCancel(ctx, id, "customer called"))
	reason, requested, err := rt.Admin().CancelRequested(ctx, id)
	require.NoError(t, err)
	assert.True(t, requested, "the request reached the runtime")
	assert.Equal(t, "customer called", reason)
	require.NoError(t, c.RequestCancel(ctx, id, "again"), "asking again changes nothing")
	require.NoError(t, c.Terminate(ctx, id))
	assert.ErrorIs(t, c.Terminate(ctx, id), runtime.ErrFinished)
	assert.ErrorIs(t, c.RequestCancel(ctx, id, "late"), runtime.ErrFinished)
	n, err := c.Purge(ctx, time.Now().Add(time.Hour), nil)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestWithoutATokenMutationsAreOff(t *testing.T) {
	_, srv, id := served(t, "")
	ctx := t.Context()
	c := &adminhttp.Client{Base: srv.URL + "/ops"}
	list, err := c.List(ctx, runtime.ListOptions{})
	require.NoError(t, err, "reads are open")
	assert.Len(t, list, 1)
	assert.ErrorIs(t, c.Terminate(ctx, id), adminhttp.ErrForbidden)
	assert.ErrorIs(t, c.RequestCancel(ctx, id, ""), adminhttp.ErrForbidden)
	_, err = c.Purge(ctx, time.Now(), nil)
	assert.ErrorIs(t, err, adminhttp.ErrForbidden)

	resp, err := http.Get(srv.URL + "/ops/api/nothing")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, err = http.Get(srv.URL + "/ops/api/activations?since=yesterday")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(body), "RFC 3339")
}

// TestConsoleSignInAndForms: the console asks for the token, keeps a
// session, and its forms only work from its own pages.
func TestConsoleSignInAndForms(t *testing.T) {
	rt, srv, id := served(t, "tok")
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := browser.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, page := get("/ops/")
	assert.Contains(t, page, "Sign in", "sent to sign in")
	resp, err := browser.PostForm(srv.URL+"/ops/login", url.Values{"token": {"wrong"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, err = browser.PostForm(srv.URL+"/ops/login", url.Values{"token": {"tok"}})
	require.NoError(t, err)
	resp.Body.Close()
	u, _ := url.Parse(srv.URL + "/ops/")
	require.Len(t, jar.Cookies(u), 1)
	assert.NotContains(t, jar.Cookies(u)[0].Value, "tok", "the cookie holds no token")

	code, page := get("/ops/")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, page, `href="/ops/a/`+id.String()+`"`, "links under the mount point")
	assert.Contains(t, page, `href="/ops/static/style.css"`)
	assert.NotRegexp(t, regexp.MustCompile(`(src|href)="(https?:)?//`), page, "nothing from elsewhere")
	_, page = get("/ops/a/" + id.String())
	assert.Contains(t, page, "order-1")
	_, page = get("/ops/a/" + id.String() + "/confirm/terminate")
	m := regexp.MustCompile(`name="form" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	require.Len(t, m, 2)

	// A form without the console's field does nothing.
	resp, err = browser.PostForm(srv.URL+"/ops/a/"+id.String()+"/terminate", url.Values{})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	a, err := rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, runtime.StateSuspended, a.State)

	resp, err = browser.PostForm(srv.URL+"/ops/a/"+id.String()+"/terminate", url.Values{"form": {m[1]}})
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.Contains(string(b), "Terminated."), string(b))
	a, err = rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, runtime.StateDone, a.State)
}
