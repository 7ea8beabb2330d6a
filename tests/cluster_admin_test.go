package tests

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestClusterReassignAndElect moves a partition to other agents with
// AlterPartitionReassignments, checks the data came along and the old
// replica dropped its copy, then exercises ElectLeaders, DeleteRecords and
// DescribeLogDirs.
func TestClusterReassignAndElect(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, false)
	adm := kadm.NewClient(newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...)))
	ctx := testCtx(t, 90*time.Second)
	topic := "moving"
	resp, err := adm.CreateTopic(ctx, 1, 2, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	before := partitionState(t, c, topic, 0)
	var outside int32
	for id := int32(1); id <= 3; id++ {
		if !slices.Contains(before.Replicas, id) {
			outside = id
		}
	}
	prod := newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...))
	want := produceSync(t, prod, makeRecords(topic, 300, 3)...)

	// Move the partition off its first replica onto the agent outside it.
	target := []int32{outside, before.Replicas[1]}
	req := kadm.AlterPartitionAssignmentsReq{}
	req.Assign(topic, 0, target)
	if _, err := adm.AlterPartitionAssignments(ctx, req); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 60*time.Second, func() error {
		listed, err := adm.ListPartitionReassignments(ctx, nil)
		if err != nil {
			return err
		}
		if len(listed) > 0 {
			return fmt.Errorf("reassignment still in progress: %v", listed)
		}
		st := partitionState(t, c, topic, 0)
		if !slices.Equal(st.Replicas, target) || !slices.Contains(target, st.Leader) {
			return fmt.Errorf("replicas %v leader %d, want %v", st.Replicas, st.Leader, target)
		}
		return nil
	})
	cons := newClient(t, c.bootstrap()[0], kgo.SeedBrokers(c.bootstrap()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	checkSame(t, want, consumeN(t, cons, len(want), 30*time.Second))
	// The removed agent no longer hosts the partition; the new one does.
	checkFor(t, 30*time.Second, func() error {
		dirs, err := adm.DescribeAllLogDirs(ctx, nil)
		if err != nil {
			return err
		}
		for agent, d := range dirs {
			hosts := false
			d.Each(func(dir kadm.DescribedLogDir) {
				dir.Topics.Each(func(p kadm.DescribedLogDirPartition) {
					if p.Topic == topic {
						hosts = true
						if p.Size <= 0 {
							hosts = false
						}
					}
				})
			})
			if hosts != slices.Contains(target, agent) {
				return fmt.Errorf("agent %d hosts %s: %v", agent, topic, hosts)
			}
		}
		return nil
	})

	// Preferred election: make the preferred replica lead.
	if st := partitionState(t, c, topic, 0); st.Leader != target[0] {
		res, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{topic: {0: {}}})
		if err != nil {
			t.Fatal(err)
		}
		if r := res[topic][0]; r.Err != nil && !errors.Is(r.Err, kerr.ElectionNotNeeded) {
			t.Fatalf("elect: %v", r.Err)
		}
	}
	res, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{topic: {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[topic][0]; !errors.Is(r.Err, kerr.ElectionNotNeeded) {
		t.Fatalf("second preferred election: %v, want ELECTION_NOT_NEEDED", r.Err)
	}

	// DeleteRecords moves the log start; reads below it are out of range.
	dr, err := adm.DeleteRecords(ctx, kadm.Offsets{topic: {0: {At: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := dr.Lookup(topic, 0); r.Err != nil || r.LowWatermark != 100 {
		t.Fatalf("delete records: low watermark %d, %v", r.LowWatermark, r.Err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := starts.Lookup(topic, 0); s.Offset != 100 {
		t.Fatalf("start offset %d after DeleteRecords, want 100", s.Offset)
	}
	if dr, err := adm.DeleteRecords(ctx, kadm.Offsets{topic: {0: {At: 10_000}}}); err != nil {
		t.Fatal(err)
	} else if r, _ := dr.Lookup(topic, 0); !errors.Is(r.Err, kerr.OffsetOutOfRange) {
		t.Fatalf("delete records past the end: %v, want OFFSET_OUT_OF_RANGE", r.Err)
	}
}
