package txn

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

// fakeWrite is one write the state queued.
type fakeWrite struct {
	put    *metadata.Transaction // nil for a removal
	id     string
	done   doneFunc
	failed error
}

// fakeEffects records writes, which complete only when the test flushes
// them, and completions, which the test finishes itself.
type fakeEffects struct {
	queue       []*fakeWrite
	written     []*fakeWrite
	completions []completion
	// fail, when set, fails the next writes with it.
	fail error
}

func (f *fakeEffects) put(t metadata.Transaction, done doneFunc) {
	t = t.Clone()
	f.queue = append(f.queue, &fakeWrite{put: &t, id: t.TransactionalID, done: done})
}

func (f *fakeEffects) remove(id string, done doneFunc) {
	f.queue = append(f.queue, &fakeWrite{id: id, done: done})
}

func (f *fakeEffects) complete(c completion) { f.completions = append(f.completions, c) }

// harness drives one shard's state with a clock the test moves.
type harness struct {
	t   *testing.T
	s   *state
	fx  *fakeEffects
	now time.Time
	pid int64 // the next producer id initProducerID hands out
}

func testConfig() Config {
	cfg := NewConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

func newHarness(t *testing.T) *harness {
	cfg := testConfig()
	h := &harness{t: t, fx: &fakeEffects{}, now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), pid: 1000}
	h.s = newState(cfg, cfg.Logger, h.fx)
	h.s.epoch = 7
	return h
}

// flush completes every queued write (and those they queue), failing them
// with fx.fail when set, and checks each stored state is valid.
func (h *harness) flush() {
	h.t.Helper()
	for n := 0; len(h.fx.queue) > 0; n++ {
		if n > 100000 {
			h.t.Fatalf("writes keep queueing more writes")
		}
		w := h.fx.queue[0]
		h.fx.queue = h.fx.queue[1:]
		w.failed = h.fx.fail
		if w.put != nil && w.failed == nil {
			if err := w.put.Validate(); err != nil {
				h.t.Fatalf("stored an invalid transaction: %v", err)
			}
		}
		h.fx.written = append(h.fx.written, w)
		w.done(h.now, w.failed)
	}
}

// pending is a request whose answer may come once writes are flushed.
type pending[T any] struct {
	res   *T
	calls int
}

func answer[T any](t *testing.T, p *pending[T]) func(T) {
	return func(v T) {
		p.calls++
		if p.calls > 1 {
			t.Errorf("answered twice: %+v", v)
		}
		p.res = &v
	}
}

func (p *pending[T]) get(t *testing.T) T {
	t.Helper()
	if p.res == nil {
		t.Fatal("request not answered")
	}
	return *p.res
}

// init sends an InitProducerId, allocating a producer id when asked, and
// flushes.
func (h *harness) init(id string, pid int64, epoch int16) (ProducerIDAndEpoch, error) {
	h.t.Helper()
	req := InitRequest{TransactionalID: id, Timeout: time.Minute, ProducerID: pid, ProducerEpoch: epoch}
	newPID := int64(-1)
	for range 3 {
		p := &pending[initResult]{}
		h.s.initProducerID(h.now, req, newPID, answer(h.t, p))
		h.flush()
		res := p.get(h.t)
		if !res.needID {
			return res.ProducerIDAndEpoch, res.err
		}
		newPID = h.pid
		h.pid++
	}
	h.t.Fatal("initProducerID keeps asking for producer ids")
	return ProducerIDAndEpoch{}, nil
}

// mustInit initializes id and fails the test on error.
func (h *harness) mustInit(id string) ProducerIDAndEpoch {
	h.t.Helper()
	pe, err := h.init(id, -1, -1)
	if err != nil {
		h.t.Fatalf("init %q: %v", id, err)
	}
	return pe
}

func (h *harness) add(id string, pe ProducerIDAndEpoch, parts []TopicPartition, groups ...string) error {
	h.t.Helper()
	p := &pending[error]{}
	h.s.add(h.now, AddRequest{TransactionalID: id, ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch, Partitions: parts, Groups: groups}, answer(h.t, p))
	h.flush()
	return p.get(h.t)
}

func (h *harness) end(id string, pe ProducerIDAndEpoch, commit bool) error {
	h.t.Helper()
	p := &pending[error]{}
	h.s.end(h.now, EndRequest{TransactionalID: id, ProducerID: pe.ProducerID, ProducerEpoch: pe.ProducerEpoch, Commit: commit}, answer(h.t, p))
	h.flush()
	return p.get(h.t)
}

// finishAll finishes every completion started so far, as the shard's
// completion goroutines do once markers and offsets are written.
func (h *harness) finishAll() {
	h.t.Helper()
	cs := h.fx.completions
	h.fx.completions = nil
	for _, c := range cs {
		p := &pending[error]{}
		h.s.finish(h.now, c.marker, answer(h.t, p))
		h.flush()
		if err := p.get(h.t); err != nil {
			h.t.Fatalf("finish %q: %v", c.marker.TransactionalID, err)
		}
	}
}

func (h *harness) meta(id string) *txnMeta {
	h.t.Helper()
	m := h.s.txns[id]
	if m == nil {
		h.t.Fatalf("no transactional id %q", id)
	}
	return m
}

func (h *harness) checkState(id string, want metadata.TxnState) {
	h.t.Helper()
	if got := h.meta(id).State; got != want {
		h.t.Fatalf("%q is %s, want %s", id, got, want)
	}
}

func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func tp(topic string, p int32) TopicPartition { return TopicPartition{Topic: topic, Partition: p} }
