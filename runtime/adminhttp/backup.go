package adminhttp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

// backup answers a consistent copy of the store, written to a temporary file
// by Admin.Backup and streamed from it. It needs the token like a mutation:
// the copy holds every argument and result the flows ever logged.
func (h *handler) backup(w http.ResponseWriter, r *http.Request) error {
	dir, err := os.MkdirTemp("", "asyncflow-backup-")
	if err != nil {
		return fmt.Errorf("adminhttp: backup: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "snapshot.db")
	if err := h.ad.Backup(r.Context(), path); err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return &apiError{status: http.StatusConflict, code: "refused", msg: "adminhttp: this runtime's store cannot be backed up through the handler: " + err.Error()}
		}
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("adminhttp: backup: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("adminhttp: backup: %w", err)
	}
	w.Header().Set("Content-Type", "application/vnd.sqlite3")
	w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	w.Header().Set("Content-Disposition", `attachment; filename="asyncflow-`+time.Now().UTC().Format("20060102T150405Z")+`.db"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// Once the header is out an error can only cut the body short, which
	// the client sees as fewer bytes than Content-Length.
	_, _ = io.Copy(w, f)
	return nil
}

// verifyStore runs the replay gate on the runtime's own store with its own
// build: what a restart would find. It needs the token like a mutation: it
// replays every unfinished activation.
func (h *handler) verifyStore(w http.ResponseWriter, r *http.Request) error {
	o := verify.Options{}
	if s := r.URL.Query().Get("workers"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return badRequest("workers %q: want a count", s)
		}
		o.Workers = n
	}
	rep, err := h.ad.Verify(r.Context(), o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
