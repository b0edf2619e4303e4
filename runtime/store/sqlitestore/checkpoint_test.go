package sqlitestore_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// checkpointWriters is how many activations the checkpoint helper appends
// to at once.
const checkpointWriters = 4

// raceDetector is set when the tests run under the race detector.
var raceDetector bool

// helperCheckpoint opens the store at args[0], reports every activation's
// log length, then appends to checkpointWriters activations as fast as it
// can while another connection checkpoints the WAL back to back, until it is
// killed. It reports every append as soon as it is durable.
func helperCheckpoint(args []string) int {
	ctx := context.Background()
	path := args[0]
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		fmt.Println("REFUSED", err)
		return 3
	}
	acts, err := s.Activations(ctx, store.Filter{})
	if err != nil {
		fmt.Println("FAILED", err)
		return 1
	}
	for len(acts) < checkpointWriters {
		a := store.Activation{ID: flow.NewActivationID(), Flow: "test.Checkpoint", Args: []byte{0x08, 0x00}, Outcome: flow.NewVowID(), CreatedGen: 1}
		if err := store.Apply(ctx, s, &store.CreateActivation{Activation: a}); err != nil {
			fmt.Println("FAILED", err)
			return 1
		}
		acts = append(acts, a)
	}
	next := make([]int64, len(acts))
	for i, a := range acts {
		log, err := s.Log(ctx, a.ID)
		if err != nil {
			fmt.Println("FAILED", err)
			return 1
		}
		next[i] = int64(len(log))
		fmt.Printf("LOG %s %d\n", a.ID, len(log))
	}
	fmt.Println("OPEN")

	// Checkpoints, as often as SQLite lets them run, from a connection of
	// its own: each one copies pages that grow the file.
	go func() {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			fmt.Println("FAILED", err)
			os.Exit(1)
		}
		for {
			if _, err := db.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
				fmt.Println("FAILED checkpoint", err)
				os.Exit(1)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var out sync.Mutex
	for i, a := range acts {
		go func() {
			payload := make([]byte, 24<<10)
			for step := next[i]; ; step += 2 {
				_, _ = rand.Read(payload)
				err := store.Apply(ctx, s,
					&store.Append{Act: a.ID, Entry: store.Entry{Step: step, Kind: 1, Gen: 1, Payload: payload}},
					&store.Append{Act: a.ID, Entry: store.Entry{Step: step + 1, Kind: 1, Gen: 1, Payload: payload[:len(payload)/2]}})
				out.Lock()
				if err != nil {
					fmt.Println("FAILED", err)
					os.Exit(1)
				}
				fmt.Printf("ACK %s %d\n", a.ID, step+1)
				out.Unlock()
			}
		}()
	}
	select {}
}

// TestCheckpointKill kills a process that appends under load while the WAL
// is checkpointed back to back, at seeded moments, hundreds of times. A
// checkpoint killed after it has written page 1 (with the new page count) but
// before the file has grown leaves a main file shorter than its header says,
// with the pages in the WAL: every reopen must succeed, and find every append
// that was reported durable.
func TestCheckpointKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a real process hundreds of times")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ASYNCFLOW_CHECKPOINT_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	kills := 240
	if raceDetector {
		kills = 96
	}
	if s := os.Getenv("ASYNCFLOW_CHECKPOINT_KILLS"); s != "" {
		var err error
		kills, err = strconv.Atoi(s)
		require.NoError(t, err)
	}
	t.Logf("seed %d, %d kills (rerun with ASYNCFLOW_CHECKPOINT_SEED=%d ASYNCFLOW_CHECKPOINT_KILLS=%d)", seed, kills, seed, kills)
	rng := mrand.New(mrand.NewPCG(seed, 0xc4ec))

	// A fresh store every few kills keeps the files small.
	const killsPerStore = 12
	dir := t.TempDir()
	var path string
	acked := map[string]int64{} // activation → last step reported durable
	torn := 0                   // reopens that found the file shorter than its header says
	for k := range kills {
		if k%killsPerStore == 0 {
			if path != "" {
				verifyAcked(t, path, acked)
			}
			path = filepath.Join(dir, fmt.Sprintf("store-%03d.db", k/killsPerStore))
			acked = map[string]int64{}
		}
		if k%killsPerStore != 0 && shortFile(t, path) {
			torn++
		}
		delay := time.Duration(5+rng.IntN(60)) * time.Millisecond
		cmd := helper(t, "checkpoint", path)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			r := bufio.NewReader(stdout)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return // a line cut by the kill is not a report
				}
				lines <- strings.TrimSuffix(line, "\n")
			}
		}()
		var refused []string
		opened := false
		var timer <-chan time.Time
	read:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					break read
				}
				f := strings.Fields(line)
				switch {
				case f[0] == "OPEN":
					opened = true
					timer = time.After(delay)
				case f[0] == "LOG":
					n, _ := strconv.ParseInt(f[2], 10, 64)
					if last, ok := acked[f[1]]; ok {
						assert.Greater(t, n, last, "kill %d: activation %s lost appends reported durable", k, f[1])
					}
				case f[0] == "ACK":
					n, _ := strconv.ParseInt(f[2], 10, 64)
					acked[f[1]] = n
				default:
					refused = append(refused, line)
				}
			case <-timer:
				_ = cmd.Process.Signal(syscall.SIGKILL)
				timer = nil
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		require.True(t, opened, "kill %d (seed %d): the store was not reopened: %s", k, seed, strings.Join(refused, "\n"))
		require.Empty(t, refused, "kill %d", k)
	}
	verifyAcked(t, path, acked)
	t.Logf("%d of %d reopens found the file torn by a checkpoint, and opened it", torn, kills)
}

// shortFile reports whether the file at path holds fewer pages than its
// header says.
func shortFile(t *testing.T, path string) bool {
	t.Helper()
	b := fileBytes(t, path)
	if len(b) < 100 {
		return false
	}
	pageSize := int64(binary.BigEndian.Uint16(b[16:]))
	pages := int64(binary.BigEndian.Uint32(b[28:]))
	return pages*pageSize > int64(len(b))
}

// verifyAcked opens the store in this process, checks its integrity and that
// every append reported durable is there.
func verifyAcked(t *testing.T, path string, acked map[string]int64) {
	t.Helper()
	ctx := t.Context()
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	require.NoError(t, err, "reopen %s", path)
	defer s.Close(context.Background())
	require.NoError(t, s.Check(ctx))
	acts, err := s.Activations(ctx, store.Filter{})
	require.NoError(t, err)
	for _, a := range acts {
		log, err := s.Log(ctx, a.ID)
		require.NoError(t, err)
		if last, ok := acked[a.ID.String()]; ok {
			assert.Greater(t, int64(len(log)), last, "activation %s lost appends reported durable", a.ID)
		}
	}
	require.NoError(t, s.Close(ctx))
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}
}
