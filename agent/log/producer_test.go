package log

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

type seqStep struct {
	batches [][]byte
	opts    AppendOptions
	want    string // "ok base-last", "dup base-last", or an error name
}

func runSteps(t *testing.T, l *Log, steps []seqStep) {
	t.Helper()
	for i, st := range steps {
		var req []byte
		for _, b := range st.batches {
			req = append(req, b...)
		}
		leo := l.LogEndOffset()
		res, err := l.Append(req, st.opts)
		var got string
		switch {
		case errors.Is(err, ErrOutOfOrderSequence):
			got = "out of order"
		case errors.Is(err, ErrInvalidProducerEpoch):
			got = "invalid epoch"
		case errors.Is(err, ErrInvalidBatch):
			got = "invalid batch"
		case err != nil:
			t.Fatalf("step %d: unexpected error %v", i, err)
		case res.Duplicate:
			got = fmt.Sprintf("dup %d-%d", res.BaseOffset, res.LastOffset)
		default:
			got = fmt.Sprintf("ok %d-%d", res.BaseOffset, res.LastOffset)
		}
		if got != st.want {
			t.Fatalf("step %d: got %q, want %q", i, got, st.want)
		}
		if (err != nil || res.Duplicate) && l.LogEndOffset() != leo {
			t.Fatalf("step %d: rejected request changed the log end from %d to %d", i, leo, l.LogEndOffset())
		}
	}
}

func TestIdempotenceRules(t *testing.T) {
	one := func(b []byte) [][]byte { return [][]byte{b} }
	steps := []seqStep{
		{batches: one(idem(1, 0, 0, 1)), want: "ok 0-0"},
		{batches: one(idem(1, 0, 1, 2)), want: "ok 1-2"},
		{batches: one(idem(1, 0, 1, 2)), want: "dup 1-2"},      // retry of the last batch
		{batches: one(idem(1, 0, 0, 1)), want: "dup 0-0"},      // retry of an older batch
		{batches: one(idem(1, 0, 4, 1)), want: "out of order"}, // gap
		{batches: one(idem(1, 0, 2, 1)), want: "out of order"}, // overlaps, not a duplicate
		{batches: one(idem(1, 0, 3, 1)), want: "ok 3-3"},
		{batches: one(idem(1, 1, 5, 1)), want: "out of order"},  // new epoch must start at 0
		{batches: one(idem(1, 1, 0, 1)), want: "ok 4-4"},        // epoch bump
		{batches: one(idem(1, 0, 4, 1)), want: "invalid epoch"}, // fenced epoch
		{batches: one(idem(1, 0, 3, 1)), want: "invalid epoch"}, // old epoch's batch is no longer a duplicate
		{batches: one(idem(1, 1, 0, 1)), want: "dup 4-4"},
		{batches: one(idem(2, 0, 3, 1)), want: "out of order"}, // unknown producer must start at 0
		{batches: one(idem(2, 0, 0, 1)), want: "ok 5-5"},
		{batches: one(idem(2, -1, 1, 1)), want: "invalid batch"}, // producer id without epoch
		{batches: one(plain(2, 5, 1)), want: "ok 6-7"},           // non-idempotent batches are not checked
		{batches: one(plain(2, 5, 1)), want: "ok 8-9"},
		// Several batches in one request: validated in order, all or nothing.
		{batches: [][]byte{idem(5, 0, 0, 1), idem(5, 0, 1, 1)}, want: "ok 10-11"},
		{batches: [][]byte{idem(5, 0, 2, 1), idem(5, 0, 4, 1)}, want: "out of order"},
		{batches: [][]byte{idem(5, 0, 2, 1), idem(5, 0, 0, 1)}, want: "dup 10-10"},
		{batches: [][]byte{idem(5, 0, 2, 1), idem(6, 0, 0, 1), idem(5, 0, 3, 1)}, want: "ok 12-14"},
	}
	runSteps(t, mustOpen(t, t.TempDir(), testConfig()), steps)
}

func TestIdempotenceWindowAndWrap(t *testing.T) {
	l := mustOpen(t, t.TempDir(), testConfig())
	one := func(b []byte) [][]byte { return [][]byte{b} }
	var steps []seqStep
	for i := range 6 {
		steps = append(steps, seqStep{batches: one(idem(3, 0, int32(i), 1)), want: fmt.Sprintf("ok %d-%d", i, i)})
	}
	steps = append(steps,
		seqStep{batches: one(idem(3, 0, 0, 1)), want: "out of order"}, // out of the 5-batch window
		seqStep{batches: one(idem(3, 0, 1, 1)), want: "dup 1-1"},      // oldest retained
		seqStep{batches: one(idem(3, 0, 5, 1)), want: "dup 5-5"},
		// A replicated append (no checks) moves producer 4 near the wrap.
		seqStep{batches: one(idem(4, 0, math.MaxInt32-1, 1)), opts: AppendOptions{SkipProducerChecks: true}, want: "ok 6-6"},
		seqStep{batches: one(idem(4, 0, math.MaxInt32, 1)), want: "ok 7-7"},
		seqStep{batches: one(idem(4, 0, 0, 1)), want: "ok 8-8"}, // wrapped
		seqStep{batches: one(idem(4, 0, 1, 1)), want: "ok 9-9"},
		seqStep{batches: one(idem(7, 0, math.MaxInt32, 1)), opts: AppendOptions{SkipProducerChecks: true}, want: "ok 10-10"},
		seqStep{batches: one(idem(7, 0, 0, 3)), want: "ok 11-13"}, // last sequence 2
		seqStep{batches: one(idem(7, 0, 3, 1)), want: "ok 14-14"},
		// A batch spanning the wrap: MaxInt32-? ... base MaxInt32 with 3
		// records ends at sequence 1.
		seqStep{batches: one(idem(8, 0, math.MaxInt32-1, 1)), opts: AppendOptions{SkipProducerChecks: true}, want: "ok 15-15"},
		seqStep{batches: one(idem(8, 0, math.MaxInt32, 3)), want: "ok 16-18"},
		seqStep{batches: one(idem(8, 0, 1, 1)), want: "out of order"},
		seqStep{batches: one(idem(8, 0, 2, 1)), want: "ok 19-19"},
		seqStep{batches: one(idem(8, 0, math.MaxInt32, 3)), want: "dup 16-18"},
	)
	runSteps(t, l, steps)
	if got := incrementSequence(math.MaxInt32, 2); got != 1 {
		t.Fatalf("incrementSequence(MaxInt32, 2) = %d, want 1", got)
	}
}

// producerWorkload appends idempotent batches for several producers across
// several segments and returns the batches per producer.
func producerWorkload(t *testing.T, l *Log, producers, perProducer int) {
	t.Helper()
	for i := range perProducer {
		for p := range producers {
			mustAppend(t, l, idem(int64(100+p), int16(p%2), int32(2*i), 2), AppendOptions{})
		}
	}
}

func TestProducerStateSurvivesReopen(t *testing.T) {
	for _, mode := range []string{"clean", "unclean", "damaged snapshot", "no snapshots"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig()
			cfg.SegmentBytes = 1024
			clock := WithClock(newFakeClock().Now)
			l, err := Open(dir, cfg, WithLogger(quietLogger()), clock)
			if err != nil {
				t.Fatal(err)
			}
			producerWorkload(t, l, 4, 20)
			want := l.Producers()
			leo := l.LogEndOffset()
			if len(l.Segments()) < 3 {
				t.Fatal("want several segments")
			}
			switch mode {
			case "clean":
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			default:
				l.abandon() // a crash without power loss: everything written is in the files
			}
			snaps, _ := filepath.Glob(filepath.Join(dir, "*.snapshot"))
			slices.Sort(snaps)
			switch mode {
			case "damaged snapshot":
				osCorrupt(t, snaps[len(snaps)-1], 20)
			case "no snapshots":
				for _, s := range snaps {
					os.Remove(s)
				}
			}
			l = mustOpen(t, dir, cfg, clock)
			if l.LogEndOffset() != leo {
				t.Fatalf("LogEndOffset %d, want %d", l.LogEndOffset(), leo)
			}
			if got := l.Producers(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("producers after reopen:\n got %+v\nwant %+v", got, want)
			}
			// Retries of the last five batches are still recognised.
			for i := 15; i < 20; i++ {
				res := mustAppend(t, l, idem(101, 1, int32(2*i), 2), AppendOptions{})
				if !res.Duplicate {
					t.Fatalf("retry of sequence %d was appended at %d", i, res.BaseOffset)
				}
			}
			runSteps(t, l, []seqStep{
				{batches: [][]byte{idem(101, 1, 40, 1)}, want: fmt.Sprintf("ok %d-%d", leo, leo)},
				{batches: [][]byte{idem(102, 0, 39, 1)}, want: "out of order"},
			})
		})
	}
}

func TestProducerExpiration(t *testing.T) {
	cfg := testConfig()
	cfg.ProducerIDExpiration = time.Hour
	l := mustOpen(t, t.TempDir(), cfg)
	mustAppend(t, l, makeBatch(batchSpec{pid: 1, epoch: 0, seq: 0, ts: 1_000_000}), AppendOptions{})
	mustAppend(t, l, makeBatch(batchSpec{pid: 2, epoch: 0, seq: 0, ts: 5_000_000}), AppendOptions{})
	if n := l.ExpireProducers(time.UnixMilli(1_000_000 + 3_599_999)); n != 0 {
		t.Fatalf("expired %d producers too early", n)
	}
	if _, err := l.ApplyRetention(time.UnixMilli(1_000_000 + 3_600_000)); err != nil {
		t.Fatal(err)
	}
	ps := l.Producers()
	if len(ps) != 1 || ps[0].ProducerID != 2 || ps[0].LastSequence != 0 || ps[0].CoordinatorEpoch != -1 || ps[0].CurrentTxnStartOffset != -1 {
		t.Fatalf("producers after expiration: %+v", ps)
	}
	// An expired producer is unknown again: it must restart at sequence 0.
	runSteps(t, l, []seqStep{{batches: [][]byte{idem(1, 0, 1, 1)}, want: "out of order"}})
}
