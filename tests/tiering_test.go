package tests

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/tiering/s3test"
)

// tierFlags make an agent offload and delete locally within a second:
// small segments, no local retention, frequent retention checks.
var tierFlags = []string{"--log-segment-bytes", "16384", "--log-local-retention", "0s", "--retention-check-interval", "200ms",
	"--log-roll", "1s"}

func s3Flags(s *s3test.Server) []string {
	return []string{"--s3-endpoint", s.Endpoint, "--s3-bucket", s.Bucket, "--s3-region", s.Region,
		"--s3-access-key", s.AccessKey, "--s3-secret-key", s.SecretKey, "--s3-path-style", "--s3-tls=false"}
}

// offsets returns the earliest, earliest-local and latest offsets of
// partition 0.
func offsets(t *testing.T, adm *kadm.Client, topic string) (start, localStart, end int64) {
	t.Helper()
	ctx := testCtx(t, 10*time.Second)
	s, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	l, err := adm.ListOffsetsAfterMilli(ctx, -4, topic) // earliest local (KIP-405)
	if err != nil {
		t.Fatal(err)
	}
	e, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	so, _ := s.Lookup(topic, 0)
	lo, _ := l.Lookup(topic, 0)
	eo, _ := e.Lookup(topic, 0)
	return so.Offset, lo.Offset, eo.Offset
}

// waitOffloaded waits until local disk no longer holds offset 0 of topic
// while the log still starts there (the rest lives in the object tier).
func waitOffloaded(t *testing.T, adm *kadm.Client, topic string, past int64) {
	t.Helper()
	checkFor(t, 30*time.Second, func() error {
		start, local, _ := offsets(t, adm, topic)
		if start != 0 || local < past {
			return fmt.Errorf("log start %d, local start %d; want 0 and >= %d", start, local, past)
		}
		return nil
	})
}

// testOffloadAndReadBack produces more than local retention keeps, waits
// for the offload, and reads everything back from offset 0 with franz-go
// and kcat: every record byte-identical at its offset, with its timestamp.
func testOffloadAndReadBack(t *testing.T, extra ...string) {
	ag := startAgent(t, append(append([]string(nil), tierFlags...), extra...)...)
	topic := "tiered"
	createTopic(t, ag.addr, topic, 1, nil)
	prod := newClient(t, ag.addr, kgo.ProducerLinger(5*time.Millisecond))
	want := produceSync(t, prod, makeRecords(topic, 3000, 11)...)
	adm := kadm.NewClient(newClient(t, ag.addr))
	waitOffloaded(t, adm, topic, 1000)

	cons := newClient(t, ag.addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := consumeN(t, cons, len(want), 30*time.Second)
	checkSame(t, want, got)
	for i := range got {
		if !got[i].Timestamp.Equal(want[i].Timestamp) {
			t.Fatalf("record %d: timestamp %v, want %v", i, got[i].Timestamp, want[i].Timestamp)
		}
	}
	// A Debian client reads the offloaded history too.
	if _, err := exec.LookPath("kcat"); err == nil {
		out, err := exec.Command("kcat", "-C", "-b", ag.addr, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\n").Output()
		if err != nil {
			t.Fatalf("kcat: %v", err)
		}
		lines := strings.Fields(string(out))
		if len(lines) != len(want) || lines[0] != "0" || lines[len(lines)-1] != fmt.Sprint(len(want)-1) {
			t.Fatalf("kcat read %d records (%v … %v), want %d from 0", len(lines), lines[:1], lines[len(lines)-1:], len(want))
		}
	} else {
		t.Log("kcat not installed (make test-deps installs it); franz-go checked the offloaded records")
	}
}

func TestTieringFilesystemStore(t *testing.T) {
	t.Parallel()
	testOffloadAndReadBack(t)
}

func TestTieringS3(t *testing.T) {
	t.Parallel()
	testOffloadAndReadBack(t, s3Flags(s3test.Start(t))...)
}

func TestTieringMinIO(t *testing.T) {
	t.Parallel()
	testOffloadAndReadBack(t, append(s3Flags(s3test.MinIO(t)), "--s3-create-bucket")...)
}

// TestTieringS3Outage stops the S3 server mid-run: produce and tail reads
// go on, local data is kept past local retention, and offloading resumes
// when the server is back.
func TestTieringS3Outage(t *testing.T) {
	t.Parallel()
	s3 := s3test.Start(t)
	ag := startAgent(t, append(append([]string(nil), tierFlags...), s3Flags(s3)...)...)
	topic := "outage"
	createTopic(t, ag.addr, topic, 1, nil)
	prod := newClient(t, ag.addr, kgo.ProducerLinger(5*time.Millisecond))
	produceSync(t, prod, makeRecords(topic, 1000, 12)...)
	adm := kadm.NewClient(newClient(t, ag.addr))
	waitOffloaded(t, adm, topic, 100)

	s3.Stop()
	_, localBefore, _ := offsets(t, adm, topic)
	tail := newClient(t, ag.addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtEnd()}}))
	more := produceSync(t, prod, makeRecords(topic, 2000, 13)...)
	checkSame(t, more, consumeN(t, tail, len(more), 20*time.Second))
	// Give retention a few rounds: nothing unuploaded may go.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if _, local, _ := offsets(t, adm, topic); local != localBefore {
			t.Fatalf("local log start moved from %d to %d while S3 was down", localBefore, local)
		}
		time.Sleep(100 * time.Millisecond)
	}

	s3.Start()
	waitOffloaded(t, adm, topic, 2000)
	cons := newClient(t, ag.addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := consumeN(t, cons, 3000, 30*time.Second)
	if got[0].Offset != 0 || got[len(got)-1].Offset != 2999 {
		t.Fatalf("read offsets %d..%d", got[0].Offset, got[len(got)-1].Offset)
	}
}

// TestTieringKillAndRestart kills the agent while it offloads and deletes,
// restarts it, and checks nothing was lost or duplicated.
func TestTieringKillAndRestart(t *testing.T) {
	t.Parallel()
	s3 := s3test.Start(t)
	ag := startAgent(t, append(append([]string(nil), tierFlags...), s3Flags(s3)...)...)
	topic := "killed"
	createTopic(t, ag.addr, topic, 1, nil)
	prod := newClient(t, ag.addr, kgo.ProducerLinger(5*time.Millisecond))
	var want []*kgo.Record
	for round := range 3 {
		want = append(want, produceSync(t, prod, makeRecords(topic, 1500, uint64(20+round))...)...)
		ag.kill()
		ag.restart()
	}
	adm := kadm.NewClient(newClient(t, ag.addr))
	waitOffloaded(t, adm, topic, 3000)
	cons := newClient(t, ag.addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	checkSame(t, want, consumeN(t, cons, len(want), 30*time.Second))
}

// TestTieringTotalRetention: total retention deletes offloaded data, and
// reads below the new log start get OFFSET_OUT_OF_RANGE.
func TestTieringTotalRetention(t *testing.T) {
	t.Parallel()
	ag := startAgent(t, tierFlags...)
	topic := "expiring"
	createTopic(t, ag.addr, topic, 1, nil)
	prod := newClient(t, ag.addr, kgo.ProducerLinger(5*time.Millisecond))
	old := makeRecords(topic, 1000, 30)
	for _, r := range old {
		r.Timestamp = time.Now().Add(-time.Hour) // an hour old
	}
	produceSync(t, prod, old...)
	fresh := produceSync(t, prod, makeRecords(topic, 1000, 31)...)
	adm := kadm.NewClient(newClient(t, ag.addr))
	waitOffloaded(t, adm, topic, 1000)
	// Keep 30 minutes: the hour-old records go, from the object tier.
	ms := "1800000"
	if _, err := adm.AlterTopicConfigs(testCtx(t, 10*time.Second), []kadm.AlterConfig{{Name: "retention.ms", Value: &ms}}, topic); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, func() error {
		start, _, _ := offsets(t, adm, topic)
		if start < 1000 || start > fresh[0].Offset {
			return fmt.Errorf("log start %d, want the first fresh offset %d", start, fresh[0].Offset)
		}
		return nil
	})
	cl := newClient(t, ag.addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(5)}}),
		kgo.ConsumeResetOffset(kgo.NoResetOffset()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("no OFFSET_OUT_OF_RANGE for a deleted offset")
		}
		var got error
		fs.EachError(func(_ string, _ int32, err error) { got = err })
		if got != nil {
			if !errors.Is(got, kerr.OffsetOutOfRange) {
				t.Fatalf("fetch below the log start: %v, want OFFSET_OUT_OF_RANGE", got)
			}
			return
		}
	}
}
