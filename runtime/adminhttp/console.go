package adminhttp

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var funcs = template.FuncMap{
	"short": func(id flow.ActivationID) string { return id.String()[:12] },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"headline": func(d *diag.Diagnostic) string { return d.Headline() },
}

// pages holds one template set per page, each with the layout.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"list", "activation", "confirm", "login", "choose", "problem"} {
		out[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}()

// page is what every page shows; each page adds its own.
type page struct {
	Title, Base, Build, Query, Flash, Problem string
	SignedIn                                  bool
}

func (h *handler) consoleRoutes() {
	static, _ := fs.Sub(staticFS, "static")
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	h.mux.HandleFunc("GET /{$}", h.console(h.listPage))
	h.mux.HandleFunc("GET /find", h.console(h.findPage))
	h.mux.HandleFunc("GET /a/{id}", h.console(h.activationPage))
	h.mux.HandleFunc("GET /a/{id}/confirm/{op}", h.console(h.confirmPage))
	h.mux.HandleFunc("POST /a/{id}/{op}", h.console(h.operatePage))
	h.mux.HandleFunc("GET /login", h.loginPage)
	h.mux.HandleFunc("POST /login", h.login)
}

// base is where the handler is mounted, with a slash: links are built on
// it, so the console works under any prefix the host strips.
func base(r *http.Request) string {
	p := r.URL.EscapedPath()
	full := r.RequestURI
	if i := strings.IndexByte(full, '?'); i >= 0 {
		full = full[:i]
	}
	prefix := strings.TrimSuffix(full, p)
	return strings.TrimSuffix(prefix, "/") + "/"
}

func (h *handler) newPage(r *http.Request, title string) page {
	return page{Title: title, Base: base(r), Build: h.ad.Build(), SignedIn: true, Flash: r.URL.Query().Get("flash")}
}

// console serves a page to a signed-in reader, or sends them to sign in.
func (h *handler) console(fn func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.signedIn(r) {
			http.Redirect(w, r, base(r)+"login", http.StatusSeeOther)
			return
		}
		if err := fn(w, r); err != nil {
			e := classify(err)
			w.WriteHeader(e.status)
			p := h.newPage(r, "Problem")
			p.Problem = e.msg
			h.render(w, "problem", struct{ page }{p})
		}
	}
}

func (h *handler) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := pages[name].ExecuteTemplate(w, "layout", data); err != nil {
		fmt.Fprintf(w, "<p>template: %s</p>", template.HTMLEscapeString(err.Error()))
	}
}

type tab struct {
	Name, Label, Link, Count string
	Current                  bool
}

// countCap bounds what a tab counts: beyond it the console says "100,000+".
const countCap = 100_000

func (h *handler) listPage(w http.ResponseWriter, r *http.Request) error {
	o, err := listOptions(r)
	if err != nil {
		return err
	}
	if o.Limit == 0 {
		o.Limit = 50
	}
	ctx := r.Context()
	list, err := h.ad.List(ctx, o)
	if err != nil {
		return err
	}
	p := h.newPage(r, "Activations")
	data := struct {
		page
		Tabs         []tab
		Filter       runtime.ListOptions
		Since, Until string
		Activations  []runtime.ActivationInfo
		Next         string
	}{page: p, Filter: o, Activations: list, Since: timeText(o.Since), Until: timeText(o.Until)}
	for _, st := range []runtime.State{"", runtime.StateRunning, runtime.StateSuspended, runtime.StateFailed, runtime.StateDone} {
		c := o
		c.State, c.After, c.Limit = st, "", countCap+1
		n, err := h.ad.Count(ctx, c)
		if err != nil {
			return err
		}
		label := "All"
		if st != "" {
			label = strings.ToUpper(string(st[:1])) + string(st[1:])
		}
		name := string(st)
		if name == "" {
			name = "all"
		}
		data.Tabs = append(data.Tabs, tab{Name: name, Label: label, Link: p.Base + "?" + query(c, ""), Count: countText(n), Current: st == o.State})
	}
	if len(list) == o.Limit {
		data.Next = p.Base + "?" + query(o, list[len(list)-1].Cursor())
	}
	h.render(w, "list", data)
	return nil
}

func countText(n int) string {
	if n > countCap {
		return "100,000+"
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// query is a listing's filter as a query string.
func query(o runtime.ListOptions, after string) string {
	v := url.Values{}
	for k, s := range map[string]string{"state": string(o.State), "flow": o.Flow, "build": o.Build, "since": timeText(o.Since), "until": timeText(o.Until), "after": after} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

func (h *handler) findPage(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	p := h.newPage(r, "Find")
	p.Query = q
	a, err := h.ad.Find(r.Context(), q)
	if err == nil {
		http.Redirect(w, r, p.Base+"a/"+a.ID.String(), http.StatusSeeOther)
		return nil
	}
	if !errors.Is(err, runtime.ErrAmbiguous) {
		return err
	}
	matches, err := h.ad.ByKey(r.Context(), q)
	if err != nil {
		return err
	}
	h.render(w, "choose", struct {
		page
		Activations []runtime.ActivationInfo
	}{p, matches})
	return nil
}

// line is a line of a guest's source, around where it failed.
type line struct {
	N    int
	Text string
	Here bool
}

func (h *handler) activationPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a, err := h.ad.Find(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	log, err := h.ad.Log(ctx, a.ID)
	if err != nil {
		return err
	}
	data := struct {
		page
		A          runtime.ActivationInfo
		Log        []runtime.LogEntry
		FailedStep int64
		Source     []line
	}{page: h.newPage(r, a.Flow), A: a, Log: log, FailedStep: -2}
	if a.Failure != nil {
		data.FailedStep = a.Failure.Step
		data.Source = h.source(a.Failure.Site)
	}
	h.render(w, "activation", data)
	return nil
}

// source reads the lines around file:line, if the file can be read.
func (h *handler) source(site string) []line {
	i := strings.LastIndexByte(site, ':')
	if i < 0 {
		return nil
	}
	n, err := strconv.Atoi(site[i+1:])
	if err != nil || n < 1 {
		return nil
	}
	path := site[:i]
	if !filepath.IsAbs(path) {
		if h.opts.SourceRoot == "" {
			return nil
		}
		path = filepath.Join(h.opts.SourceRoot, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []line
	sc := bufio.NewScanner(f)
	for k := 1; sc.Scan() && k <= n+3; k++ {
		if k >= n-3 {
			out = append(out, line{N: k, Text: sc.Text(), Here: k == n})
		}
	}
	return out
}

var verbs = map[string]struct{ verb, explain string }{
	"retry":     {"Retry", "It is replayed now, with the code of this build. If the code reproduces its log, it carries on; if not, it stays failed with a new diagnostic."},
	"wake":      {"Wake", "It is replayed now instead of when what it waits for settles, to learn at once whether this build still reproduces its log. It suspends again if it does."},
	"cancel":    {"Request cancellation", "Its flow is told that cancellation is requested. A flow written for it undoes what it did, calling hosts as it needs, and returns; a flow that does not look carries on. Asking again changes nothing."},
	"terminate": {"Terminate", "It is given up for good, at once: its outcome is rejected with a termination error, and it will do nothing more — no compensation, no host call. This cannot be undone."},
}

func (h *handler) confirmPage(w http.ResponseWriter, r *http.Request) error {
	op := r.PathValue("op")
	v, ok := verbs[op]
	if !ok {
		return &apiError{status: http.StatusNotFound, code: "not_found", msg: "adminhttp: no operation " + strconv.Quote(op)}
	}
	a, err := h.ad.Find(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	p := h.newPage(r, v.verb)
	if h.opts.Token == "" {
		p.Problem = "This console was mounted without a token: it cannot " + op + " anything."
	}
	h.render(w, "confirm", struct {
		page
		A                 runtime.ActivationInfo
		Op, Verb, Explain string
		Form              string
	}{p, a, op, v.verb, v.explain, h.formToken()})
	return nil
}

func (h *handler) operatePage(w http.ResponseWriter, r *http.Request) error {
	op := r.PathValue("op")
	if h.opts.Token == "" {
		return &apiError{status: http.StatusForbidden, code: "forbidden", msg: "adminhttp: mutations are off: the admin handler was mounted without a token"}
	}
	if !sameSecret(r.PostFormValue("form"), h.formToken()) {
		return &apiError{status: http.StatusForbidden, code: "forbidden", msg: "adminhttp: this form did not come from the console"}
	}
	a, err := h.ad.Find(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := h.do(r.Context(), op, r.PostFormValue("reason"), a); err != nil {
		return err
	}
	done := map[string]string{"retry": "Retried: it is being replayed.", "wake": "Woken: it is being replayed.",
		"cancel": "Cancellation requested.", "terminate": "Terminated."}[op]
	http.Redirect(w, r, base(r)+"a/"+a.ID.String()+"?flash="+url.QueryEscape(done), http.StatusSeeOther)
	return nil
}

func (h *handler) loginPage(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "Sign in")
	p.SignedIn = false
	h.render(w, "login", struct{ page }{p})
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	if h.opts.Token == "" || !sameSecret(r.PostFormValue("token"), h.opts.Token) {
		w.WriteHeader(http.StatusUnauthorized)
		p := h.newPage(r, "Sign in")
		p.SignedIn = false
		p.Problem = "That is not the token."
		h.render(w, "login", struct{ page }{p})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: h.derived("session"), Path: base(r),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, base(r), http.StatusSeeOther)
}
