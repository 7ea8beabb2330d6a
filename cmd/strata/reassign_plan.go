package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
)

// reassignmentPlan is a partition reassignment in the JSON format of Kafka's
// kafka-reassign-partitions.sh, so plans move freely between the two tools:
//
//	{"version":1,"partitions":[
//	  {"topic":"orders","partition":0,"replicas":[2,3,1]},
//	  {"topic":"orders","partition":1,"replicas":[3,1,2],"log_dirs":["any","any","any"]}]}
//
// version must be 1. replicas lists the agent IDs that should hold the
// partition, preferred leader first. log_dirs is optional; since there is
// no way to choose a directory here (AlterReplicaLogDirs), each entry must be
// "any".
type reassignmentPlan struct {
	Version    int               `json:"version"`
	Partitions []plannedReplicas `json:"partitions"`
}

// plannedReplicas is one partition of a reassignmentPlan.
type plannedReplicas struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Replicas  []int32  `json:"replicas"`
	LogDirs   []string `json:"log_dirs,omitempty"`
}

const (
	planVersion = 1
	// maxPlanBytes bounds a plan or offsets file, which is read whole: a
	// plan for a million partitions is well under it.
	maxPlanBytes = 64 << 20
)

// readPlanFile reads a plan or offsets file; "-" is stdin.
func readPlanFile(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxPlanBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxPlanBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d MiB", errInvalidPlan, name, maxPlanBytes>>20)
	}
	return data, nil
}

// decodeStrictJSON decodes exactly one JSON value into v, rejecting unknown
// fields (a misspelt "replica" would otherwise be silently empty) and
// trailing data.
func decodeStrictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

// parsePlan decodes and validates a plan: version 1, at least one
// partition, no partition twice, each with at least one replica, replica IDs
// >= 0 and distinct.
func parsePlan(data []byte) (reassignmentPlan, error) {
	var p reassignmentPlan
	if err := decodeStrictJSON(data, &p); err != nil {
		return p, fmt.Errorf("%w: %v", errInvalidPlan, err)
	}
	if p.Version != planVersion {
		return p, fmt.Errorf("%w: \"version\" is %d, want %d", errInvalidPlan, p.Version, planVersion)
	}
	if len(p.Partitions) == 0 {
		return p, fmt.Errorf("%w: \"partitions\" is empty", errInvalidPlan)
	}
	seen := make(kadm.TopicsSet)
	for i, pp := range p.Partitions {
		if err := pp.validate(); err != nil {
			return p, fmt.Errorf("%w: partitions[%d]: %v", errInvalidPlan, i, err)
		}
		if seen.Lookup(pp.Topic, pp.Partition) {
			return p, fmt.Errorf("%w: partitions[%d]: %s-%d is listed twice", errInvalidPlan, i, pp.Topic, pp.Partition)
		}
		seen.Add(pp.Topic, pp.Partition)
	}
	return p, nil
}

func (pp plannedReplicas) validate() error {
	switch {
	case pp.Topic == "":
		return errors.New("\"topic\" is missing or empty")
	case pp.Partition < 0:
		return fmt.Errorf("%s: \"partition\" %d is negative", pp.Topic, pp.Partition)
	case len(pp.Replicas) == 0:
		return fmt.Errorf("%s-%d: \"replicas\" is empty (to cancel a reassignment use --cancel)", pp.Topic, pp.Partition)
	case pp.LogDirs != nil && len(pp.LogDirs) != len(pp.Replicas):
		return fmt.Errorf("%s-%d: \"log_dirs\" has %d entries for %d replicas", pp.Topic, pp.Partition,
			len(pp.LogDirs), len(pp.Replicas))
	}
	for _, d := range pp.LogDirs {
		if d != "any" {
			return fmt.Errorf("%s-%d: log dir %q: only \"any\" is supported", pp.Topic, pp.Partition, d)
		}
	}
	if err := parseAgentIDs("\"replicas\"", pp.Replicas); err != nil {
		return fmt.Errorf("%s-%d: %v", pp.Topic, pp.Partition, err)
	}
	return nil
}

// topics returns the plan's topics, sorted.
func (p reassignmentPlan) topics() []string {
	seen := make(map[string]bool)
	for _, pp := range p.Partitions {
		seen[pp.Topic] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// set returns the plan's partitions.
func (p reassignmentPlan) set() kadm.TopicsSet {
	s := make(kadm.TopicsSet)
	for _, pp := range p.Partitions {
		s.Add(pp.Topic, pp.Partition)
	}
	return s
}

// checkAgainst verifies that every partition of the plan exists in cur.
func (p reassignmentPlan) checkAgainst(cur replicaAssignment) error {
	for _, pp := range p.Partitions {
		ps, ok := cur[pp.Topic]
		if !ok {
			return topicNotFound(pp.Topic)
		}
		if _, ok := ps[pp.Partition]; !ok {
			return fmt.Errorf("%w: partition %d of topic %q does not exist (it has %s)",
				errInvalidPlan, pp.Partition, pp.Topic, plural(len(ps), "partition"))
		}
	}
	return nil
}

// replicas returns every agent the plan places a replica on, sorted.
func (p reassignmentPlan) replicas() []int32 {
	var all []int32
	for _, pp := range p.Partitions {
		all = append(all, pp.Replicas...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// currentPlan is the plan that restores the partitions of p to their
// current replicas: what to keep to roll a reassignment back.
func currentPlan(p reassignmentPlan, cur replicaAssignment) reassignmentPlan {
	out := reassignmentPlan{Version: planVersion, Partitions: make([]plannedReplicas, 0, len(p.Partitions))}
	for _, pp := range p.Partitions {
		out.Partitions = append(out.Partitions, plannedReplicas{Topic: pp.Topic, Partition: pp.Partition,
			Replicas: nonNil(cur[pp.Topic][pp.Partition])})
	}
	return out
}

// compactJSON renders a plan on one line, as Kafka's tool prints it.
func (p reassignmentPlan) compactJSON() string {
	b, err := json.Marshal(p)
	if err != nil { // cannot happen: the plan holds only strings and numbers
		panic(err)
	}
	return string(b)
}

// generatePlan spreads the replicas of every partition of topics over
// agents round-robin: taking the partitions in order (topics by name, then
// partition number), the i-th gets agents[i], agents[i+1], ... (modulo the
// number of agents), as many as it has replicas now. So leadership
// (the first replica) and replicas are spread evenly, and the result is
// deterministic. When every given agent has a rack, agents are first
// interleaved by rack, so that consecutive replicas land in different racks
// wherever the racks allow it.
func generatePlan(cur replicaAssignment, topics []string, agents []int32, racks map[int32]string) (reassignmentPlan, error) {
	order := interleaveRacks(agents, racks)
	plan := reassignmentPlan{Version: planVersion, Partitions: []plannedReplicas{}}
	next := 0
	for _, t := range slices.Sorted(slices.Values(topics)) {
		ps := cur[t]
		for _, p := range slices.Sorted(maps.Keys(ps)) {
			rf := len(ps[p])
			switch {
			case rf == 0:
				return plan, fmt.Errorf("partition %d of topic %q has no replicas in the metadata; is it being deleted?", p, t)
			case rf > len(order):
				return plan, fmt.Errorf("topic %q has %s per partition but --agents lists only %s",
					t, plural(rf, "replica"), plural(len(order), "agent"))
			}
			replicas := make([]int32, rf)
			for j := range replicas {
				replicas[j] = order[(next+j)%len(order)]
			}
			next++
			plan.Partitions = append(plan.Partitions, plannedReplicas{Topic: t, Partition: p, Replicas: replicas})
		}
	}
	return plan, nil
}

// interleaveRacks orders agents so that racks alternate (a1, b1, c1, a2,
// b2, ...), racks in order of first appearance and agents within a rack in
// the given order. Unless every agent has a rack, agents are returned as
// given.
func interleaveRacks(agents []int32, racks map[int32]string) []int32 {
	var rackOrder []string
	byRack := make(map[string][]int32)
	for _, a := range agents {
		r, ok := racks[a]
		if !ok {
			return slices.Clone(agents)
		}
		if _, seen := byRack[r]; !seen {
			rackOrder = append(rackOrder, r)
		}
		byRack[r] = append(byRack[r], a)
	}
	out := make([]int32, 0, len(agents))
	for i := 0; len(out) < len(agents); i++ {
		for _, r := range rackOrder {
			if i < len(byRack[r]) {
				out = append(out, byRack[r][i])
			}
		}
	}
	return out
}
