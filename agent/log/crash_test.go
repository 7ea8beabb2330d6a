package log

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"
)

const crashDir = "/data/topic-0"

func crashConfig(flushMessages int64) Config {
	cfg := testConfig()
	cfg.SegmentBytes = 1500
	cfg.IndexIntervalBytes = 200
	cfg.FlushMessages = flushMessages
	return cfg
}

// crashWorkload appends random batches to a log on fs, injecting faults
// and running maintenance at random. It returns the batches Append
// accepted, in order, every batch that reached the segment file (accepted,
// or written before its fsync failed), and how many accepted batches a
// completed Sync made durable.
func crashWorkload(t *testing.T, rng *rand.Rand, fs *MemFS, l *Log, steps int, faults bool) (acked, written [][]byte, synced int) {
	t.Helper()
	for i := range steps {
		if faults {
			switch rng.IntN(25) {
			case 0:
				fs.FailWrite(1+rng.IntN(3), rng.IntN(2) == 0)
			case 1:
				fs.FailSync(1 + rng.IntN(4))
			}
		}
		b := makeBatch(batchSpec{records: 1 + rng.IntN(3), valueSize: rng.IntN(300), pid: -1, epoch: -1, seq: -1, ts: int64(i), fill: byte(i)})
		leo := l.LogEndOffset()
		_, err := l.Append(b, AppendOptions{LeaderEpoch: 1})
		if err == nil {
			acked = append(acked, b)
		}
		if l.LogEndOffset() > leo {
			written = append(written, b)
		}
		switch rng.IntN(12) {
		case 0:
			if err := l.Sync(); err == nil {
				synced = len(acked)
			}
		case 1:
			_ = l.MaybeFlush(l.o.now()) // may hit an injected fault
		}
	}
	return acked, written, synced
}

// checkRecovered reopens the crashed FS and checks the log is a prefix of
// written holding at least the first mustHave batches.
func checkRecovered(t *testing.T, fs *MemFS, cfg Config, written [][]byte, mustHave int) {
	t.Helper()
	l, err := Open(crashDir, cfg, WithFS(fs), WithLogger(quietLogger()))
	if err != nil {
		t.Fatalf("Open after crash: %v", err)
	}
	defer l.Close()
	got := readAll(t, l)
	if len(got) < mustHave || len(got) > len(written) {
		t.Fatalf("recovered %d batches, want between %d and %d", len(got), mustHave, len(written))
	}
	for i := range got {
		if !bytes.Equal(got[i].raw, written[i]) {
			t.Fatalf("recovered batch %d differs from what was appended", i)
		}
	}
	// The recovered log accepts appends and survives a clean restart.
	b := plain(1, 10, 99)
	mustAppend(t, l, b, AppendOptions{LeaderEpoch: 2})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(crashDir, cfg, WithFS(fs), WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if n := len(readAll(t, l2)); n != len(got)+1 {
		t.Fatalf("after clean restart %d batches, want %d", n, len(got)+1)
	}
}

// TestCrashFlushEveryMessage: with FlushMessages=1 every acknowledged batch
// survives a power loss, whatever faults were injected, and the log never
// holds anything that was not appended.
func TestCrashFlushEveryMessage(t *testing.T) {
	for seed := range 40 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		fs := NewMemFS()
		cfg := crashConfig(1)
		l, err := Open(crashDir, cfg, WithFS(fs), WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		acked, written, _ := crashWorkload(t, rng, fs, l, 20+rng.IntN(80), seed%2 == 0)
		if seed%3 == 0 {
			fs.CrashPartial(rng)
		} else {
			fs.Crash()
		}
		l.abandon()
		// Every acked batch was written; acked ones form a prefix of
		// written because a failed fsync stops the log.
		for i := range acked {
			if !bytes.Equal(acked[i], written[i]) {
				t.Fatalf("seed %d: acked batch %d is not the %dth written", seed, i, i)
			}
		}
		checkRecovered(t, fs, cfg, written, len(acked))
	}
}

// TestCrashNoFsync: with Kafka's default policy a power loss loses an
// unsynced tail, but recovery always succeeds, the log is a prefix of what
// was appended, and whatever a completed Sync covered is kept.
func TestCrashNoFsync(t *testing.T) {
	for seed := range 40 {
		rng := rand.New(rand.NewPCG(uint64(seed), 9))
		fs := NewMemFS()
		cfg := crashConfig(0)
		l, err := Open(crashDir, cfg, WithFS(fs), WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		_, written, synced := crashWorkload(t, rng, fs, l, 30+rng.IntN(100), false)
		if seed%2 == 0 {
			fs.CrashPartial(rng)
		} else {
			fs.Crash()
		}
		l.abandon()
		checkRecovered(t, fs, cfg, written, synced)
	}
}

// TestCrashConcurrentAppenders crashes while several goroutines append with
// FlushMessages=1; every append acknowledged before the crash survives.
func TestCrashConcurrentAppenders(t *testing.T) {
	for seed := range 5 {
		fs := NewMemFS()
		proc := &processFS{fs: fs}
		cfg := crashConfig(1)
		l, err := Open(crashDir, cfg, WithFS(proc), WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		var (
			crashMu sync.RWMutex
			crashed bool
			ackMu   sync.Mutex
			acked   = make(map[int64]bool) // by base timestamp
			wg      sync.WaitGroup
		)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 60 {
					ts := int64(w*1000 + i)
					_, err := l.Append(plain(1, 50+w, ts), AppendOptions{LeaderEpoch: 1})
					crashMu.RLock()
					if err == nil && !crashed {
						ackMu.Lock()
						acked[ts] = true
						ackMu.Unlock()
					}
					crashMu.RUnlock()
				}
			}()
		}
		waitFor(t, "some appends", func() bool {
			ackMu.Lock()
			defer ackMu.Unlock()
			return len(acked) >= 20+seed*10
		})
		crashMu.Lock()
		proc.crash()
		crashed = true
		crashMu.Unlock()
		wg.Wait()
		l.abandon()
		l2, err := Open(crashDir, cfg, WithFS(fs), WithLogger(quietLogger()))
		if err != nil {
			t.Fatalf("Open after crash: %v", err)
		}
		have := make(map[int64]bool)
		for _, b := range readAll(t, l2) {
			have[b.h.BaseTimestamp] = true
		}
		l2.Close()
		for ts := range acked {
			if !have[ts] {
				t.Fatalf("seed %d: acknowledged batch %d lost (%d acked, %d recovered)", seed, ts, len(acked), len(have))
			}
		}
	}
}

// TestFailedWriteLeavesLogUsable: a failed (torn) write is truncated away
// and the next append lands where the failed one would have.
func TestFailedWriteLeavesLogUsable(t *testing.T) {
	fs := NewMemFS()
	l, err := Open(crashDir, crashConfig(0), WithFS(fs), WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a := plain(2, 100, 1)
	mustAppend(t, l, a, AppendOptions{})
	fs.FailWrite(1, true)
	if _, err := l.Append(plain(2, 100, 2), AppendOptions{}); !errors.Is(err, ErrInjectedFault) {
		t.Fatalf("Append with a failing write: %v", err)
	}
	if l.LogEndOffset() != 2 || l.Size() != int64(len(a)) {
		t.Fatalf("failed write changed the log: end %d size %d", l.LogEndOffset(), l.Size())
	}
	b := plain(1, 100, 3)
	if res := mustAppend(t, l, b, AppendOptions{}); res.BaseOffset != 2 {
		t.Fatalf("next append at %d, want 2", res.BaseOffset)
	}
	got := readAll(t, l)
	if len(got) != 2 || !bytes.Equal(got[1].raw, b) {
		t.Fatalf("log content wrong after a failed write")
	}
	// A failed fsync makes the log refuse appends.
	l.cfg.FlushMessages = 1
	fs.FailSync(1)
	if _, err := l.Append(plain(1, 1, 4), AppendOptions{}); !errors.Is(err, ErrInjectedFault) {
		t.Fatalf("Append with a failing fsync: %v", err)
	}
	if _, err := l.Append(plain(1, 1, 5), AppendOptions{}); !errors.Is(err, ErrInjectedFault) {
		t.Fatalf("Append after a failed fsync: %v", err)
	}
}

// processFS is the view of a MemFS from one process: after kill every
// operation fails, as a dead process does nothing more.
type processFS struct {
	mu   sync.RWMutex
	fs   *MemFS
	dead bool // guarded by mu
}

var errDead = errors.New("process is dead")

// crash kills the process and then power-fails the file system, with no
// operation of the process in between.
func (p *processFS) crash() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dead = true
	p.fs.Crash()
}

func (p *processFS) do(f func() error) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.dead {
		return errDead
	}
	return f()
}

func (p *processFS) wrap(f File, err error) (File, error) {
	if err != nil {
		return nil, err
	}
	return &processFile{p: p, f: f}, nil
}

func (p *processFS) Open(name string) (f File, err error) {
	err = p.do(func() error { f, err = p.wrap(p.fs.Open(name)); return err })
	return f, err
}
func (p *processFS) Create(name string) (f File, err error) {
	err = p.do(func() error { f, err = p.wrap(p.fs.Create(name)); return err })
	return f, err
}
func (p *processFS) OpenFile(name string, flag int, perm os.FileMode) (f File, err error) {
	err = p.do(func() error { f, err = p.wrap(p.fs.OpenFile(name, flag, perm)); return err })
	return f, err
}
func (p *processFS) Rename(a, b string) error { return p.do(func() error { return p.fs.Rename(a, b) }) }
func (p *processFS) Remove(name string) error { return p.do(func() error { return p.fs.Remove(name) }) }
func (p *processFS) ReadDir(dir string) (names []string, err error) {
	err = p.do(func() error { names, err = p.fs.ReadDir(dir); return err })
	return names, err
}
func (p *processFS) MkdirAll(dir string, perm os.FileMode) error {
	return p.do(func() error { return p.fs.MkdirAll(dir, perm) })
}
func (p *processFS) SyncDir(dir string) error { return p.do(func() error { return p.fs.SyncDir(dir) }) }

type processFile struct {
	p *processFS
	f File
}

func (f *processFile) ReadAt(b []byte, off int64) (n int, err error) {
	err = f.p.do(func() error { n, err = f.f.ReadAt(b, off); return err })
	return n, err
}
func (f *processFile) Write(b []byte) (n int, err error) {
	err = f.p.do(func() error { n, err = f.f.Write(b); return err })
	return n, err
}
func (f *processFile) Truncate(size int64) error {
	return f.p.do(func() error { return f.f.Truncate(size) })
}
func (f *processFile) Sync() error { return f.p.do(f.f.Sync) }
func (f *processFile) Close() error {
	f.p.mu.RLock()
	defer f.p.mu.RUnlock()
	return f.f.Close()
}
func (f *processFile) Stat() (fi os.FileInfo, err error) {
	err = f.p.do(func() error { fi, err = f.f.Stat(); return err })
	return fi, err
}

// TestFlushPolicy checks FlushMessages, FlushInterval, UnflushedMessages and
// that MaybeFlush makes closed segments durable and advances the recovery
// point.
func TestFlushPolicy(t *testing.T) {
	fs := NewMemFS()
	clock := newFakeClock()
	cfg := crashConfig(5)
	cfg.FlushInterval = time.Minute
	l, err := Open(crashDir, cfg, WithFS(fs), WithClock(clock.Now), WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	appendN := func(n int) {
		for range n {
			mustAppend(t, l, plain(1, 400, 1), AppendOptions{})
		}
	}
	appendN(3)
	if got := l.UnflushedMessages(); got != 3 {
		t.Fatalf("UnflushedMessages = %d, want 3", got)
	}
	appendN(2) // the fifth record triggers an fsync
	if got := l.UnflushedMessages(); got != 0 {
		t.Fatalf("UnflushedMessages after FlushMessages = %d, want 0", got)
	}
	appendN(1)
	if err := l.MaybeFlush(clock.Now()); err != nil || l.UnflushedMessages() != 1 {
		t.Fatalf("MaybeFlush before FlushInterval: %v, %d unflushed", err, l.UnflushedMessages())
	}
	clock.Advance(time.Minute)
	if err := l.MaybeFlush(clock.Now()); err != nil || l.UnflushedMessages() != 0 {
		t.Fatalf("MaybeFlush after FlushInterval: %v, %d unflushed", err, l.UnflushedMessages())
	}
	segs := l.Segments()
	if len(segs) < 2 {
		t.Fatalf("want several segments, got %d", len(segs))
	}
	b, err := readWholeFile(fs, crashDir+"/"+logCheckpointName)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := decodeLogCheckpoint(b)
	if err != nil || cp.recoveryPoint != segs[len(segs)-1].BaseOffset || cp.clean {
		t.Fatalf("checkpoint %+v, %v; want recovery point %d", cp, err, segs[len(segs)-1].BaseOffset)
	}
	fs.Crash()
	l.abandon()
	l, err = Open(crashDir, cfg, WithFS(fs), WithClock(clock.Now), WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if n := len(readAll(t, l)); n != 6 {
		t.Fatalf("%d batches after crash, want 6", n)
	}
	for _, s := range segs[:len(segs)-1] {
		if _, err := fs.Open(s.IndexPath); err != nil {
			t.Fatalf("index of flushed segment lost in the crash: %v", err)
		}
	}
}
