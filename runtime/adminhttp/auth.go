package adminhttp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// authorize checks an API request: with a token set, every request bears
// it; without one, mutations are refused.
func (h *handler) authorize(r *http.Request, mutation bool) error {
	if h.opts.Token == "" {
		if mutation {
			return &apiError{status: http.StatusForbidden, code: "forbidden",
				msg: "adminhttp: mutations are off: the admin handler was mounted without a token"}
		}
		return nil
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return &apiError{status: http.StatusUnauthorized, code: "unauthorized", msg: "adminhttp: this admin handler needs its token (Authorization: Bearer …)"}
	}
	if !sameSecret(got, h.opts.Token) {
		return &apiError{status: http.StatusUnauthorized, code: "unauthorized", msg: "adminhttp: wrong token"}
	}
	return nil
}

func sameSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// derived is a value derived from the token for one purpose: the session
// cookie and the console's form field hold these, never the token.
func (h *handler) derived(purpose string) string {
	m := hmac.New(sha256.New, []byte(h.opts.Token))
	m.Write([]byte("asyncflow admin console: " + purpose))
	return hex.EncodeToString(m.Sum(nil))
}

const sessionCookie = "asyncflow_session"

// signedIn reports whether a console request carries the session a sign-in
// with the token gave, or the token itself as a bearer.
func (h *handler) signedIn(r *http.Request) bool {
	if h.opts.Token == "" {
		return true
	}
	if h.authorize(r, false) == nil {
		return true
	}
	c, err := r.Cookie(sessionCookie)
	return err == nil && sameSecret(c.Value, h.derived("session"))
}

// formToken is the hidden field the console's forms carry, so that a form
// posted from elsewhere does nothing even with the session.
func (h *handler) formToken() string { return h.derived("form") }
