package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
)

// FuzzParsePlan checks that any input either fails with errInvalidPlan or
// yields a plan that keeps parsePlan's promises and survives a round trip
// through its own encoding.
func FuzzParsePlan(f *testing.F) {
	for _, seed := range []string{
		`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3]}]}`,
		`{"version":1,"partitions":[{"topic":"t","partition":1,"replicas":[3,1],"log_dirs":["any","any"]},` +
			`{"topic":"s","partition":0,"replicas":[2]}]}`,
		`{"partitions":[{"topic":"t","partition":0,"replicas":[1]}],"version":1}` + "\n",
		`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,1]}]}`,
		`{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":null}]}`,
		`{"version":1,"partitions":[]}`, `{}`, `[]`, `null`, ``, `{"version":1e3}`, `{"version":1} x`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parsePlan(data)
		if err != nil {
			if !errors.Is(err, errInvalidPlan) {
				t.Fatalf("error %v does not wrap errInvalidPlan", err)
			}
			return
		}
		if p.Version != planVersion || len(p.Partitions) == 0 {
			t.Fatalf("accepted %+v", p)
		}
		type tp struct {
			topic string
			p     int32
		}
		seen := map[tp]bool{}
		for _, pp := range p.Partitions {
			key := tp{pp.Topic, pp.Partition}
			if pp.Topic == "" || pp.Partition < 0 || len(pp.Replicas) == 0 || seen[key] {
				t.Fatalf("accepted partition %+v", pp)
			}
			seen[key] = true
			rs := slices.Clone(pp.Replicas)
			slices.Sort(rs)
			if rs[0] < 0 || len(slices.Compact(rs)) != len(pp.Replicas) {
				t.Fatalf("accepted replicas %v", pp.Replicas)
			}
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parsePlan(b)
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, p, again)
		}
	})
}

// FuzzParseOffsetsFile checks that any input either fails with
// errInvalidPlan or yields valid, distinct partitions and offsets.
func FuzzParseOffsetsFile(f *testing.F) {
	for _, seed := range []string{
		`{"version":1,"partitions":[{"topic":"t","partition":0,"offset":5},{"topic":"t","partition":1,"offset":-1}]}`,
		`{"partitions":[{"topic":"t","partition":0,"offset":-2}],"version":1}`,
		`{"version":1,"partitions":[{"topic":"t","partition":0,"offset":1},{"topic":"t","partition":0,"offset":2}]}`,
		`{"version":1,"partitions":[{"topic":"t","partition":0,"offset":9223372036854775807}]}`,
		`{}`, `[]`, ``, `{"version":1,"partitions":[{}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := parseOffsetsFile(data)
		if err != nil {
			if !errors.Is(err, errInvalidPlan) {
				t.Fatalf("error %v does not wrap errInvalidPlan", err)
			}
			return
		}
		if len(ds) == 0 {
			t.Fatal("accepted no partitions")
		}
		type tp struct {
			topic string
			p     int32
		}
		seen := map[tp]bool{}
		for _, d := range ds {
			if d.topic == "" || d.partition < 0 || d.offset < -1 || seen[tp{d.topic, d.partition}] {
				t.Fatalf("accepted %+v", d)
			}
			seen[tp{d.topic, d.partition}] = true
		}
	})
}
