package adminhttp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

// ErrUnauthorized is returned by a Client whose token the handler does not
// take, or that has none where one is needed.
var ErrUnauthorized = errors.New("unauthorized")

// ErrForbidden is returned by a Client asking for a mutation of a handler
// mounted without a token.
var ErrForbidden = errors.New("forbidden")

// ErrUnavailable is returned when the runtime behind the handler is closing.
var ErrUnavailable = errors.New("unavailable")

// Client speaks the admin handler's API: the operations of runtime.Admin,
// over HTTP, with the runtime's errors (errors.Is works on them).
type Client struct {
	// Base is the URL where the handler is mounted, such as
	// http://127.0.0.1:8080/asyncflow/.
	Base string
	// Token is the handler's token, if it has one.
	Token string
	// HTTP is the client to use; default http.DefaultClient.
	HTTP *http.Client
}

// Error is an error the handler answered.
type Error struct {
	Status int
	Code   string
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap gives the runtime's (or this package's) error for the code.
func (e *Error) Unwrap() error {
	switch e.Code {
	case "not_found":
		return runtime.ErrUnknownActivation
	case "unauthorized":
		return ErrUnauthorized
	case "forbidden":
		return ErrForbidden
	case "unavailable":
		return ErrUnavailable
	case "refused":
		for _, s := range []error{runtime.ErrNotFailed, runtime.ErrFinished, runtime.ErrAmbiguous, runtime.ErrUnregistered, runtime.ErrNoRuntime} {
			if strings.Contains(e.Msg, s.Error()) {
				return s
			}
		}
	case "bad_request":
		for _, s := range []error{runtime.ErrBadCursor, runtime.ErrUnknownState} {
			if strings.Contains(e.Msg, s.Error()) {
				return s
			}
		}
	}
	return nil
}

func (c *Client) url(path string, q url.Values) (string, error) {
	b, err := url.Parse(c.Base)
	if err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" {
		return "", fmt.Errorf("adminhttp: address %q: want a URL such as http://127.0.0.1:8080/asyncflow/", c.Base)
	}
	if !strings.HasSuffix(b.Path, "/") {
		b.Path += "/"
	}
	u := b.JoinPath(path)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// do sends a request and reads an error answer into an *Error.
func (c *Client) do(ctx context.Context, method, path string, q url.Values) (*http.Response, error) {
	u, err := c.url(path, q)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, fmt.Errorf("adminhttp: %w", err)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("adminhttp: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var body struct{ Error, Code string }
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, &body) != nil || body.Code == "" {
			return nil, &Error{Status: resp.StatusCode, Code: "internal", Msg: fmt.Sprintf("adminhttp: %s %s: %s (not the admin handler?)", method, u, resp.Status)}
		}
		return nil, &Error{Status: resp.StatusCode, Code: body.Code, Msg: body.Error}
	}
	return resp, nil
}

func (c *Client) get(ctx context.Context, path string, q url.Values, v any) error {
	return c.call(ctx, http.MethodGet, path, q, v)
}

func (c *Client) call(ctx context.Context, method, path string, q url.Values, v any) error {
	resp, err := c.do(ctx, method, path, q)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("adminhttp: %s %s: reading the answer: %w", method, path, err)
	}
	return nil
}

func listQuery(o runtime.ListOptions) url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("state", string(o.State))
	set("flow", o.Flow)
	set("build", o.Build)
	set("after", o.After)
	if !o.Since.IsZero() {
		q.Set("since", o.Since.Format(time.RFC3339Nano))
	}
	if !o.Until.IsZero() {
		q.Set("until", o.Until.Format(time.RFC3339Nano))
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	return q
}

// List is Admin.List.
func (c *Client) List(ctx context.Context, o runtime.ListOptions) ([]runtime.ActivationInfo, error) {
	var p Page
	err := c.get(ctx, "api/activations", listQuery(o), &p)
	return p.Activations, err
}

// Count is Admin.Count.
func (c *Client) Count(ctx context.Context, o runtime.ListOptions) (int, error) {
	var v struct{ Count int }
	err := c.get(ctx, "api/count", listQuery(o), &v)
	return v.Count, err
}

// Find is Admin.Find.
func (c *Client) Find(ctx context.Context, ref string) (runtime.ActivationInfo, error) {
	var a runtime.ActivationInfo
	err := c.get(ctx, "api/activations/"+url.PathEscape(ref), nil, &a)
	return a, err
}

// Log is Admin.Log.
func (c *Client) Log(ctx context.Context, id flow.ActivationID) ([]runtime.LogEntry, error) {
	var l LogPage
	err := c.get(ctx, "api/activations/"+id.String()+"/log", nil, &l)
	return l.Entries, err
}

// Failures is Admin.Failures.
func (c *Client) Failures(ctx context.Context) ([]runtime.ActivationInfo, error) {
	var p Page
	err := c.get(ctx, "api/failures", nil, &p)
	return p.Activations, err
}

// Unregistered is Admin.Unregistered.
func (c *Client) Unregistered(ctx context.Context) ([]runtime.ActivationInfo, error) {
	var p Page
	err := c.get(ctx, "api/unregistered", nil, &p)
	return p.Activations, err
}

func (c *Client) operate(ctx context.Context, op string, id flow.ActivationID) error {
	return c.operateWith(ctx, op, id, nil)
}

func (c *Client) operateWith(ctx context.Context, op string, id flow.ActivationID, q url.Values) error {
	var a runtime.ActivationInfo
	return c.call(ctx, http.MethodPost, "api/activations/"+id.String()+"/"+op, q, &a)
}

// Retry is Admin.Retry.
func (c *Client) Retry(ctx context.Context, id flow.ActivationID) error {
	return c.operate(ctx, "retry", id)
}

// RequestCancel is Admin.RequestCancel.
func (c *Client) RequestCancel(ctx context.Context, id flow.ActivationID, reason string) error {
	return c.operateWith(ctx, "cancel", id, url.Values{"reason": {reason}})
}

// Terminate is Admin.Terminate.
func (c *Client) Terminate(ctx context.Context, id flow.ActivationID) error {
	return c.operate(ctx, "terminate", id)
}

// Wake is Admin.Wake.
func (c *Client) Wake(ctx context.Context, id flow.ActivationID) error {
	return c.operate(ctx, "wake", id)
}

// Purge is Admin.Purge: progress is called as the handler reports batches.
func (c *Client) Purge(ctx context.Context, before time.Time, progress func(int)) (int, error) {
	resp, err := c.do(ctx, http.MethodPost, "api/purge", url.Values{"before": {before.Format(time.RFC3339Nano)}})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		var p Progress
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return n, fmt.Errorf("adminhttp: purge: reading the answer: %w", err)
		}
		n = p.Purged
		switch {
		case p.Error != "":
			return n, &Error{Status: http.StatusOK, Code: p.Code, Msg: p.Error}
		case p.Done:
			return n, nil
		case progress != nil:
			progress(n)
		}
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("adminhttp: purge: %w", err)
	}
	return n, fmt.Errorf("adminhttp: purge: the answer ended before the purge did (%d purged so far)", n)
}

// Backup is Admin.Backup through the handler: it writes a consistent copy of
// the running process's store to dest, a new file, and removes what it wrote
// if the copy does not arrive whole.
func (c *Client) Backup(ctx context.Context, dest string) error {
	resp, err := c.do(ctx, http.MethodGet, "api/backup", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("adminhttp: backup: %w", err)
	}
	n, err := io.Copy(f, resp.Body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("the copy ended after %d of %d bytes", n, resp.ContentLength)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(dest)
		return fmt.Errorf("adminhttp: backup to %s: %w", dest, err)
	}
	return nil
}

// Verify is Admin.Verify through the handler: the replay gate on the running
// process's store with its own build. Of opts, only Workers crosses; Each
// and Replaying are not called.
func (c *Client) Verify(ctx context.Context, opts verify.Options) (*verify.Report, error) {
	q := url.Values{}
	if opts.Workers > 0 {
		q.Set("workers", strconv.Itoa(opts.Workers))
	}
	var rep verify.Report
	if err := c.call(ctx, http.MethodPost, "api/verify", q, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}
