package shop

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
)

// Effect is one thing the world saw: a host method's effect, or an answer
// given by a person (a confirmation, a parcel packed).
type Effect struct {
	Op         string `json:"op"`                   // Confirm, Reserve, Charge, Pack, Ship, or confirmed, packed
	Key        string `json:"key,omitempty"`        // the host call's idempotency key
	Activation string `json:"activation,omitempty"` // the activation that made the call
	Order      string `json:"order"`
	Vow        string `json:"vow,omitempty"`
	PID        int    `json:"pid"`
}

// Journal is an append-only file of effects, synced line by line: it
// survives the program being killed at any moment.
type Journal struct {
	mu sync.Mutex
	f  *os.File
}

// OpenJournal opens (or creates) the journal at path for appending.
func OpenJournal(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Journal{f: f}, nil
}

// Record appends an effect and syncs it to disk.
func (j *Journal) Record(e Effect) error {
	e.PID = os.Getpid()
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return j.f.Sync()
}

// Close closes the journal.
func (j *Journal) Close() error { return j.f.Close() }

// ReadJournal reads every effect recorded at path; a last line cut short by
// a kill is left out.
func ReadJournal(path string) ([]Effect, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Effect
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e Effect
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}
