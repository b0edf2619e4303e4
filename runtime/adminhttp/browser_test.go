package adminhttp_test

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/adminhttp"
)

// chromium finds headless Chromium, or skips — unless
// ASYNCFLOW_TEST_BROWSER_REQUIRED is set, as CI sets it, and then the test
// fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ASYNCFLOW_TEST_BROWSER_REQUIRED") != "" {
		t.Fatal("no Chromium found, and ASYNCFLOW_TEST_BROWSER_REQUIRED is set (Debian: apt-get install chromium)")
	}
	t.Skip("no Chromium (Debian: apt-get install chromium)")
	return ""
}

// browser starts a headless Chromium of its own, with a fresh profile,
// that asks nothing of the network.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	return ctx
}

// approve is the flow of the console's tests: two builds of it differ in
// the greeting.
func approve(greeting string) func(fc flow.Context, tl testkit.Teller, a string) (string, error) {
	return func(fc flow.Context, tl testkit.Teller, a string) (string, error) {
		g, err := tl.Echo(fc, greeting+a)
		if err != nil {
			return "", err
		}
		v, err := tl.Ask(fc, "approve "+a)
		if err != nil {
			return "", err
		}
		ok, err := flow.Await(fc, v)
		if err != nil {
			return "", err
		}
		return tl.Echo(fc, g+": "+ok)
	}
}

// stuckStore runs build v1, which leaves order-1 waiting, then build v2,
// whose greeting differs: woken at start, order-1 is stuck. In v2, order-2
// fails in the host while broken is set. It returns v2's runtime.
func stuckStore(t *testing.T, broken *atomic.Bool) *runtime.Runtime {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	open := func(build string, wakeAll bool, greeting string) (*runtime.Runtime, testkit.Handle[string, string]) {
		rt, err := runtime.Open(ctx, path, runtime.Options{Build: build, WakeAll: wakeAll})
		require.NoError(t, err)
		rec := &testkit.Recorder{
			NewVow: func(ctx context.Context) (flow.Vow[string], error) { return runtime.NewVow[string](ctx, rt) },
			Hook: func(ctx context.Context, method string, args ...any) error {
				if broken.Load() {
					panic("the ledger is unreachable")
				}
				return nil
			},
		}
		testkit.ProvideTeller(rt, "host", rec)
		h := testkit.Register(rt, "payments.Approve", approve(greeting))
		require.NoError(t, rt.Start(ctx))
		return rt, h
	}
	waitFor := func(rt *runtime.Runtime, ref string, want runtime.State) {
		require.Eventually(t, func() bool {
			a, err := rt.Admin().Find(ctx, ref)
			return err == nil && a.State == want
		}, 20*time.Second, 5*time.Millisecond, ref)
	}
	v1, h := open("v1.4.2", false, "hi ")
	_, err := h.StartWithID(ctx, "order-1", testkit.TellerRef("host"), "order-1")
	require.NoError(t, err)
	waitFor(v1, "order-1", runtime.StateSuspended)
	require.NoError(t, v1.Close(ctx))

	v2, h := open("v1.5.0", true, "hello ")
	t.Cleanup(func() { _ = v2.Close(context.Background()) })
	waitFor(v2, "order-1", runtime.StateFailed)
	broken.Store(true)
	_, err = h.StartWithID(ctx, "order-2", testkit.TellerRef("host"), "order-2")
	require.NoError(t, err)
	waitFor(v2, "order-2", runtime.StateFailed)
	return v2
}

// TestConsoleInABrowser signs in, goes from the list of activations to a
// failed one and retries it, in a real browser on a real runtime.
func TestConsoleInABrowser(t *testing.T) {
	ctx := browser(t)
	var broken atomic.Bool
	rt := stuckStore(t, &broken)
	mux := http.NewServeMux()
	mux.Handle("/asyncflow/", http.StripPrefix("/asyncflow", adminhttp.Handler(rt.Admin(), adminhttp.Options{Token: "console-test-token"})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	text := func(id string) string {
		t.Helper()
		return run(t, ctx, chromedp.Text(chromedp.ID(id)))
	}
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/asyncflow/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), "console-test-token"),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS("table.activations")),
	))
	listText := run(t, ctx, chromedp.Text(chromedp.CSS("table.activations")))
	assert.Contains(t, listText, "order-1")
	assert.Contains(t, listText, "order-2")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("tab-failed")),
		chromedp.WaitVisible(chromedp.CSS("tr.state-failed")),
	))
	assert.Contains(t, text("tab-failed"), "2", "the Failed tab counts them")

	broken.Store(false) // the ledger is back
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//tr[contains(., "order-2")]//a[contains(@class, "id")]`)),
		chromedp.WaitVisible(chromedp.ID("diagnostic")),
	))
	page := text("diagnostic")
	assert.Contains(t, page, "host-panic")
	assert.Contains(t, page, "the ledger is unreachable")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("retry")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	))
	assert.Contains(t, text("flash"), "Retried")
	var a runtime.ActivationInfo
	require.Eventually(t, func() bool {
		var err error
		a, err = rt.Admin().Find(t.Context(), "order-2")
		return err == nil && a.State == runtime.StateSuspended
	}, 20*time.Second, 10*time.Millisecond, "retried, order-2 runs on and waits for its approval")
	require.NoError(t, chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("state"))))
	assert.Equal(t, "suspended", strings.TrimSpace(text("state")), "the page says so too")
}

// run runs a browser action and requires it to work.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

// TestStuckActivationPageRenders takes a screenshot of a stuck activation's
// page, served by a host program that two builds ran in turn, and checks it
// is a real picture of it. With ASYNCFLOW_UPDATE_SCREENSHOT=1 it writes
// docs/console-stuck.png.
func TestStuckActivationPageRenders(t *testing.T) {
	ctx := browser(t)
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "opshost")
	out, err := exec.Command("go", "build", "-o", bin, "../../internal/opshost").CombinedOutput()
	require.NoError(t, err, "%s", out)
	path := filepath.Join(t.TempDir(), "app.db")
	host := func(args ...string) (addr string, stop func()) {
		cmd := exec.Command(bin, append([]string{"-store", path, "-flow", "payments.Approve", "-source-root", filepath.Join(root, "internal")}, args...)...)
		in, err := cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err)
		stopped := false
		stop = func() {
			if !stopped {
				stopped = true
				in.Close()
				_ = cmd.Wait()
			}
		}
		t.Cleanup(stop)
		return strings.TrimPrefix(strings.TrimSpace(line), "LISTEN "), stop
	}
	state := func(c *adminhttp.Client, ref string, want runtime.State) runtime.ActivationInfo {
		var a runtime.ActivationInfo
		require.Eventually(t, func() bool {
			var err error
			a, err = c.Find(t.Context(), ref)
			return err == nil && a.State == want
		}, 20*time.Second, 10*time.Millisecond, ref)
		return a
	}
	addr, stop := host("-build", "v1.4.2", "-start", "order-7,order-8")
	state(&adminhttp.Client{Base: addr}, "order-7", runtime.StateSuspended)
	state(&adminhttp.Client{Base: addr}, "order-8", runtime.StateSuspended)
	stop()
	addr, _ = host("-build", "v1.5.0", "-variant", "v2", "-wake-all")
	a := state(&adminhttp.Client{Base: addr}, "order-7", runtime.StateFailed)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(addr+"a/"+a.ID.String()),
		chromedp.WaitVisible(chromedp.ID("diagnostic")),
	))
	assert.Contains(t, run(t, ctx, chromedp.Text(chromedp.ID("logged"))), `Echo("hi order-7")`)
	assert.Contains(t, run(t, ctx, chromedp.Text(chromedp.ID("did"))), `Echo("hello order-7")`)
	assert.Contains(t, run(t, ctx, chromedp.Text(chromedp.ID("source"))), `t.Echo(fc, greeting+a)`, "the source line of the divergence")
	shot := run(t, ctx, chromedp.FullScreenshot(100))

	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err, "a PNG")
	b := img.Bounds()
	assert.GreaterOrEqual(t, b.Dx(), 1000)
	assert.GreaterOrEqual(t, b.Dy(), 600)
	assert.Greater(t, colours(img), 8, "not a blank page")
	if os.Getenv("ASYNCFLOW_UPDATE_SCREENSHOT") != "" {
		require.NoError(t, os.WriteFile(filepath.Join(root, "docs", "console-stuck.png"), shot, 0o644))
	}
}

// colours counts the distinct colours of a sample of the picture.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, al := img.At(x, y).RGBA()
			seen[[4]uint32{r >> 12, g >> 12, bl >> 12, al >> 12}] = true
		}
	}
	return len(seen)
}
