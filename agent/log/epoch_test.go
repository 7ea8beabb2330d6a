package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

func TestEpochCacheAssign(t *testing.T) {
	tests := []struct {
		name    string
		assigns [][2]int64 // epoch, start
		want    string
	}{
		{"append", [][2]int64{{1, 0}, {2, 10}, {4, 20}}, "[{1 0} {2 10} {4 20}]"},
		{"same epoch later offset ignored", [][2]int64{{1, 0}, {1, 5}}, "[{1 0}]"},
		{"same epoch earlier offset moves start", [][2]int64{{1, 5}, {1, 3}}, "[{1 3}]"},
		{"new epoch at the same offset replaces", [][2]int64{{1, 0}, {2, 10}, {3, 10}}, "[{1 0} {3 10}]"},
		{"older epoch removes newer ones", [][2]int64{{1, 0}, {3, 10}, {2, 5}}, "[{1 0} {2 5}]"},
		{"negative ignored", [][2]int64{{-1, 0}, {1, -1}}, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c epochCache
			for _, a := range tt.assigns {
				c.assign(int32(a[0]), a[1])
			}
			if got := fmt.Sprint(c.entries); got != tt.want {
				t.Fatalf("entries %s, want %s", got, tt.want)
			}
		})
	}
}

func TestEpochCacheTruncate(t *testing.T) {
	mk := func() *epochCache {
		return &epochCache{entries: []epochEntry{{1, 0}, {2, 10}, {4, 20}}}
	}
	tests := []struct {
		name string
		op   func(*epochCache) bool
		want string
		chg  bool
	}{
		{"end after all", func(c *epochCache) bool { return c.truncateFromEnd(25) }, "[{1 0} {2 10} {4 20}]", false},
		{"end at an epoch start", func(c *epochCache) bool { return c.truncateFromEnd(20) }, "[{1 0} {2 10}]", true},
		{"end inside", func(c *epochCache) bool { return c.truncateFromEnd(11) }, "[{1 0} {2 10}]", true},
		{"start before all", func(c *epochCache) bool { return c.truncateFromStart(0) }, "[{1 0} {2 10} {4 20}]", false},
		{"start inside an epoch", func(c *epochCache) bool { return c.truncateFromStart(15) }, "[{2 15} {4 20}]", true},
		{"start at an epoch start", func(c *epochCache) bool { return c.truncateFromStart(20) }, "[{4 20}]", true},
		{"start past all", func(c *epochCache) bool { return c.truncateFromStart(30) }, "[{4 30}]", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mk()
			chg := tt.op(c)
			if got := fmt.Sprint(c.entries); got != tt.want || chg != tt.chg {
				t.Fatalf("entries %s changed=%v, want %s changed=%v", got, chg, tt.want, tt.chg)
			}
		})
	}
}

func TestEndOffsetForEpoch(t *testing.T) {
	l := mustOpen(t, t.TempDir(), testConfig())
	if e, o := l.EndOffsetForEpoch(0); e != -1 || o != -1 {
		t.Fatalf("empty log: %d, %d", e, o)
	}
	// Epoch 2: offsets 0-9, epoch 5: 10-19, epoch 7: 20-29.
	for _, ep := range []int32{2, 5, 7} {
		for range 5 {
			mustAppend(t, l, plain(2, 10, 1), AppendOptions{LeaderEpoch: ep})
		}
	}
	tests := []struct {
		epoch     int32
		wantEpoch int32
		wantEnd   int64
	}{
		{-1, -1, -1},
		{0, 0, 0}, // older than every known epoch: start of the first
		{2, 2, 10},
		{3, 2, 10},
		{5, 5, 20},
		{6, 5, 20},
		{7, 7, 30}, // latest: the log end
		{8, -1, -1},
	}
	for _, tt := range tests {
		if e, o := l.EndOffsetForEpoch(tt.epoch); e != tt.wantEpoch || o != tt.wantEnd {
			t.Errorf("EndOffsetForEpoch(%d) = %d, %d; want %d, %d", tt.epoch, e, o, tt.wantEpoch, tt.wantEnd)
		}
	}
	if got := l.LatestEpoch(); got != 7 {
		t.Fatalf("LatestEpoch = %d", got)
	}
	// A new leader epoch is recorded before its first append.
	if err := l.AssignLeaderEpoch(9); err != nil {
		t.Fatal(err)
	}
	if e, o := l.EndOffsetForEpoch(7); e != 7 || o != 30 {
		t.Fatalf("EndOffsetForEpoch(7) after epoch 9 = %d, %d", e, o)
	}
	if err := l.AssignLeaderEpoch(8); !errors.Is(err, ErrFencedLeaderEpoch) {
		t.Fatalf("AssignLeaderEpoch(8) = %v", err)
	}
	// Persisted across a crash and rebuilt from batches if the checkpoint
	// is lost.
	dir := l.Dir()
	l.abandon()
	l = mustOpen(t, dir, testConfig())
	if got := fmt.Sprint(l.epochs.entries); got != "[{2 0} {5 10} {7 20} {9 30}]" {
		t.Fatalf("entries after reopen %s", got)
	}
	l.abandon()
	if err := NewOSFS().Remove(dir + "/" + epochCheckpointName); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, dir, testConfig())
	if got := fmt.Sprint(l.epochs.entries); got != "[{2 0} {5 10} {7 20}]" {
		t.Fatalf("entries rebuilt from batches %s", got)
	}
}

func TestReplicatedAppendKeepsBatchEpochs(t *testing.T) {
	leader := mustOpen(t, t.TempDir(), testConfig())
	follower := mustOpen(t, t.TempDir(), testConfig())
	var fetched []byte
	for i, ep := range []int32{1, 1, 3, 4} {
		mustAppend(t, leader, idem(9, 0, int32(i), 1), AppendOptions{LeaderEpoch: ep})
	}
	fetched, err := leader.Read(0, 1<<20, leader.LogEndOffset(), true)
	if err != nil {
		t.Fatal(err)
	}
	res := mustAppend(t, follower, fetched, AppendOptions{LeaderEpoch: -1, SkipProducerChecks: true})
	if res.BaseOffset != 0 || res.LastOffset != 3 {
		t.Fatalf("replicated offsets %d-%d", res.BaseOffset, res.LastOffset)
	}
	if got := fmt.Sprint(follower.epochs.entries); got != "[{1 0} {3 2} {4 3}]" {
		t.Fatalf("follower epochs %s", got)
	}
	if fmt.Sprint(follower.Producers()) != fmt.Sprint(leader.Producers()) {
		t.Fatalf("follower producers %+v, leader %+v", follower.Producers(), leader.Producers())
	}
	stale := plain(1, 1, 1)
	binary.BigEndian.PutUint32(stale[offLeaderEpoch:], 2) // epoch 2 after epoch 4
	if _, err := follower.Append(stale, AppendOptions{LeaderEpoch: -1, SkipProducerChecks: true}); !errors.Is(err, ErrFencedLeaderEpoch) {
		t.Fatalf("replicated batch with an older epoch: %v", err)
	}
}
