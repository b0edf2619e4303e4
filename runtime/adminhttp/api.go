package adminhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/asyncflow-go/asyncflow/runtime"
)

// Options configure the handler. The zero value serves reads to anyone the
// host lets reach it and refuses mutations, backups and verify.
type Options struct {
	// Token, when set, is needed by every request; mutations, backups and
	// verify need it always. The handler compares it in constant time;
	// make it long and random.
	Token string
	// SourceRoot, if set, is where the console reads a failed guest's
	// source file to show its line, for diagnostics whose site is relative;
	// an absolute site is read as it is. A file it cannot read is shown as
	// its file:line only.
	SourceRoot string
}

// Handler returns the admin handler of ad: the JSON API under api/ and the
// web console at the root, relative to where it is mounted.
func Handler(ad *runtime.Admin, opts Options) http.Handler {
	h := &handler{ad: ad, opts: opts, mux: http.NewServeMux()}
	h.routes()
	return h
}

type handler struct {
	ad   *runtime.Admin
	opts Options
	mux  *http.ServeMux
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

func (h *handler) routes() {
	h.mux.HandleFunc("GET /api/activations", h.api(h.list))
	h.mux.HandleFunc("GET /api/activations/{ref}", h.api(h.show))
	h.mux.HandleFunc("GET /api/activations/{ref}/log", h.api(h.log))
	h.mux.HandleFunc("GET /api/count", h.api(h.count))
	h.mux.HandleFunc("GET /api/failures", h.api(h.failures))
	h.mux.HandleFunc("GET /api/unregistered", h.api(h.unregistered))
	h.mux.HandleFunc("POST /api/activations/{ref}/{op}", h.mutation(h.operate))
	h.mux.HandleFunc("POST /api/purge", h.mutation(h.purge))
	h.mux.HandleFunc("GET /api/backup", h.mutation(h.backup))
	h.mux.HandleFunc("POST /api/verify", h.mutation(h.verifyStore))
	h.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, code: "not_found", msg: "adminhttp: no such API: " + r.Method + " " + r.URL.Path})
	})
	h.consoleRoutes()
}

// apiError is an error with the status and code the API answers it with.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, code: "bad_request", msg: "adminhttp: " + fmt.Sprintf(format, args...)}
}

// classify gives an error its status and code.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	e := &apiError{status: http.StatusInternalServerError, code: "internal", msg: err.Error()}
	switch {
	case errors.Is(err, runtime.ErrUnknownActivation):
		e.status, e.code = http.StatusNotFound, "not_found"
	case errors.Is(err, runtime.ErrNotFailed), errors.Is(err, runtime.ErrFinished), errors.Is(err, runtime.ErrAmbiguous),
		errors.Is(err, runtime.ErrUnregistered), errors.Is(err, runtime.ErrNoRuntime):
		e.status, e.code = http.StatusConflict, "refused"
	case errors.Is(err, runtime.ErrBadCursor), errors.Is(err, runtime.ErrUnknownState):
		e.status, e.code = http.StatusBadRequest, "bad_request"
	case errors.Is(err, runtime.ErrClosed):
		e.status, e.code = http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.status, e.code = http.StatusServiceUnavailable, "unavailable"
	}
	return e
}

func writeError(w http.ResponseWriter, err error) {
	e := classify(err)
	writeJSON(w, e.status, map[string]string{"error": e.msg, "code": e.code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// api serves a read: the token, when one is set, then fn's answer.
func (h *handler) api(fn func(r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h.authorize(r, false); err != nil {
			writeError(w, err)
			return
		}
		v, err := fn(r)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

// mutation serves a change: it always needs the token.
func (h *handler) mutation(fn func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h.authorize(r, true); err != nil {
			writeError(w, err)
			return
		}
		if err := fn(w, r); err != nil {
			writeError(w, err)
		}
	}
}

// Page is a page of a listing, as the API answers it.
type Page struct {
	Activations []runtime.ActivationInfo `json:"activations"`
	// Next is the cursor of the next page, empty on the last.
	Next string `json:"next,omitempty"`
}

func listOptions(r *http.Request) (runtime.ListOptions, error) {
	q := r.URL.Query()
	o := runtime.ListOptions{State: runtime.State(q.Get("state")), Flow: q.Get("flow"), Build: q.Get("build"), After: q.Get("after")}
	var err error
	if o.Since, err = timeParam(q.Get("since"), "since"); err != nil {
		return o, err
	}
	if o.Until, err = timeParam(q.Get("until"), "until"); err != nil {
		return o, err
	}
	if s := q.Get("limit"); s != "" {
		if o.Limit, err = strconv.Atoi(s); err != nil || o.Limit < 0 {
			return o, badRequest("limit %q: want a count", s)
		}
	}
	return o, nil
}

func timeParam(s, name string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, badRequest("%s %q: want an RFC 3339 time", name, s)
	}
	return t, nil
}

func (h *handler) list(r *http.Request) (any, error) {
	o, err := listOptions(r)
	if err != nil {
		return nil, err
	}
	if o.Limit == 0 {
		o.Limit = 100
	}
	page, err := h.ad.List(r.Context(), o)
	if err != nil {
		return nil, err
	}
	p := Page{Activations: page}
	if len(page) == o.Limit {
		p.Next = page[len(page)-1].Cursor()
	}
	if p.Activations == nil {
		p.Activations = []runtime.ActivationInfo{}
	}
	return p, nil
}

func (h *handler) show(r *http.Request) (any, error) {
	return h.ad.Find(r.Context(), r.PathValue("ref"))
}

// LogPage is an activation's timeline, as the API answers it.
type LogPage struct {
	Activation runtime.ActivationInfo `json:"activation"`
	Entries    []runtime.LogEntry     `json:"entries"`
}

func (h *handler) log(r *http.Request) (any, error) {
	a, err := h.ad.Find(r.Context(), r.PathValue("ref"))
	if err != nil {
		return nil, err
	}
	entries, err := h.ad.Log(r.Context(), a.ID)
	if err != nil {
		return nil, err
	}
	if entries == nil {
		entries = []runtime.LogEntry{}
	}
	return LogPage{Activation: a, Entries: entries}, nil
}

func (h *handler) count(r *http.Request) (any, error) {
	o, err := listOptions(r)
	if err != nil {
		return nil, err
	}
	n, err := h.ad.Count(r.Context(), o)
	return map[string]int{"count": n}, err
}

func (h *handler) failures(r *http.Request) (any, error) {
	l, err := h.ad.Failures(r.Context())
	if l == nil {
		l = []runtime.ActivationInfo{}
	}
	return Page{Activations: l}, err
}

func (h *handler) unregistered(r *http.Request) (any, error) {
	l, err := h.ad.Unregistered(r.Context())
	if l == nil {
		l = []runtime.ActivationInfo{}
	}
	return Page{Activations: l}, err
}

// operate runs retry, wake, cancel (a request, with the form value reason)
// or terminate, and answers the activation after it.
func (h *handler) operate(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a, err := h.ad.Find(ctx, r.PathValue("ref"))
	if err != nil {
		return err
	}
	if err := h.do(ctx, r.PathValue("op"), r.FormValue("reason"), a); err != nil {
		return err
	}
	after, err := h.ad.Get(ctx, a.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, after)
	return nil
}

func (h *handler) do(ctx context.Context, op, reason string, a runtime.ActivationInfo) error {
	switch op {
	case "retry":
		return h.ad.Retry(ctx, a.ID)
	case "cancel":
		return h.ad.RequestCancel(ctx, a.ID, reason)
	case "terminate":
		return h.ad.Terminate(ctx, a.ID)
	case "wake":
		return h.ad.Wake(ctx, a.ID)
	}
	return &apiError{status: http.StatusNotFound, code: "not_found", msg: fmt.Sprintf("adminhttp: no operation %q (retry, wake, cancel or terminate)", op)}
}

// Progress is one line of a purge's answer.
type Progress struct {
	Purged int    `json:"purged"`
	Done   bool   `json:"done,omitempty"`
	Error  string `json:"error,omitempty"`
	Code   string `json:"code,omitempty"`
}

// purge answers newline-delimited JSON: the count so far after each batch,
// then the total with done set, or an error.
func (h *handler) purge(w http.ResponseWriter, r *http.Request) error {
	before, err := timeParam(r.URL.Query().Get("before"), "before")
	if err != nil {
		return err
	}
	if before.IsZero() {
		return badRequest("purge needs before, an RFC 3339 time")
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	flush := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	n, err := h.ad.Purge(r.Context(), before, func(n int) {
		_ = enc.Encode(Progress{Purged: n})
		flush()
	})
	if err != nil {
		e := classify(err)
		_ = enc.Encode(Progress{Purged: n, Error: e.msg, Code: e.code})
		return nil
	}
	_ = enc.Encode(Progress{Purged: n, Done: true})
	flush()
	return nil
}
