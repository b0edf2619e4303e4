package sqlitestore

import "time"

// Group commit gathers into one transaction what is queued when the writer
// is free. Left at that, submitters that wait for each commit fall into two
// groups taking turns: those released by a commit come back a few
// microseconds after the next one has begun with whoever came first, so each
// of them waits for a commit not its own before its own. A start issued right
// after the one before returns, racing the steps of the flows already
// running, then costs two commits instead of one.
//
// So after a commit the writer gives the submitters it released a short
// window to come back before it begins the next: it gathers until as many
// submissions as it released are in, or the window closes, whichever is
// first. The window is a quarter of the last commit's time, at most
// maxLinger, counted from the end of that commit, so a submission reaching
// an idle writer never waits, and one that comes on its own while others are
// busy waits at most that long beside a whole commit of its own.

// maxLinger bounds the window.
const maxLinger = 500 * time.Microsecond

// linger is what the last commit tells the next.
type linger struct {
	released int       // submissions the last commit completed
	until    time.Time // when their window closes
	timer    *time.Timer
}

func newLinger() *linger {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &linger{timer: t}
}

// committed notes a batch committed (or failed) from start to end.
func (l *linger) committed(batch []job, start, end time.Time) {
	l.released = 0
	for _, j := range batch {
		if j.own == nil {
			l.released++
		}
	}
	l.until = end.Add(min(end.Sub(start)/4, maxLinger))
}

// gather adds to batch what is queued and, while the window of the last
// commit is open, what the submitters it released bring back.
func (s *Store) gather(batch []job, l *linger) []job {
	for len(batch) < s.opts.MaxBatch {
		select {
		case j := <-s.queue:
			batch = append(batch, j)
			continue
		default:
		}
		wait := time.Until(l.until)
		if len(batch) >= l.released || wait <= 0 {
			return batch
		}
		l.timer.Reset(wait)
		select {
		case j := <-s.queue:
			batch = append(batch, j)
		case <-l.timer.C:
			l.released = 0
		case <-s.stop:
			l.released = 0
		}
		l.timer.Stop()
	}
	return batch
}
