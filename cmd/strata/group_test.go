package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestParseTopicSpecs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []string
		want    topicSpecs
		wantErr string
	}{
		{name: "whole topic", in: []string{"orders"}, want: topicSpecs{"orders": nil}},
		{name: "partitions sorted", in: []string{"orders:2,0,1"}, want: topicSpecs{"orders": {0, 1, 2}}},
		{name: "spaces", in: []string{"orders:0, 1"}, want: topicSpecs{"orders": {0, 1}}},
		{name: "union of repeats", in: []string{"a:1", "a:0,1", "b"}, want: topicSpecs{"a": {0, 1}, "b": nil}},
		{name: "whole topic wins", in: []string{"a:1", "a", "a:2"}, want: topicSpecs{"a": nil}},
		{name: "dotted names", in: []string{"my.topic-1_x:3"}, want: topicSpecs{"my.topic-1_x": {3}}},
		{name: "empty topic", in: []string{":1"}, wantErr: "want TOPIC or TOPIC:PARTITION"},
		{name: "empty", in: []string{""}, wantErr: "want TOPIC or TOPIC:PARTITION"},
		{name: "no partitions", in: []string{"a:"}, wantErr: `partition "" is not a number`},
		{name: "negative", in: []string{"a:-1"}, wantErr: `partition "-1"`},
		{name: "trailing comma", in: []string{"a:1,"}, wantErr: `partition ""`},
		{name: "range", in: []string{"a:0-3"}, wantErr: `partition "0-3"`},
		{name: "too big", in: []string{"a:2147483648"}, wantErr: "is not a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTopicSpecs(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseGroupStates(t *testing.T) {
	got, err := parseGroupStates([]string{"stable,EMPTY", "PreparingRebalance", "empty"})
	if want := []string{"Empty", "PreparingRebalance", "Stable"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
	if got, err := parseGroupStates(nil); err != nil || got != nil {
		t.Fatalf("none: %v, %v", got, err)
	}
	if _, err := parseGroupStates([]string{"running"}); err == nil || !strings.Contains(err.Error(), "want one of Stable") {
		t.Fatalf("unknown state: %v", err)
	}
}

func TestParseDateTime(t *testing.T) {
	utc := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	for in, want := range map[string]int64{
		"2024-05-01T12:00:00Z":             utc("2024-05-01T12:00:00Z"),
		"2024-05-01T12:00:00.250Z":         utc("2024-05-01T12:00:00.25Z"),
		"2024-05-01T14:00:00+02:00":        utc("2024-05-01T12:00:00Z"),
		"2024-05-01T07:30:00.5-04:30":      utc("2024-05-01T12:00:00.5Z"),
		"2024-05-01t12:00:00z":             utc("2024-05-01T12:00:00Z"), // RFC 3339 allows lower case
		"2024-05-01T12:00:00.123456789Z":   utc("2024-05-01T12:00:00.123Z"),
		"2024-05-01T12:00:00":              utc("2024-05-01T12:00:00Z"), // Kafka: no zone is UTC
		"2024-05-01T12:00:00.007":          utc("2024-05-01T12:00:00.007Z"),
		"2024-05-01T14:00:00.000+0200":     utc("2024-05-01T12:00:00Z"),
		"2024-05-01T14:00:00+02":           utc("2024-05-01T12:00:00Z"),
		" 2024-05-01T12:00:00Z ":           utc("2024-05-01T12:00:00Z"),
		"1970-01-01T00:00:00Z":             0,
		"2024-02-29T23:59:59.999999+00:00": utc("2024-02-29T23:59:59.999Z"),
	} {
		got, err := parseDateTime(in)
		if err != nil || got != want {
			t.Errorf("parseDateTime(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "2024-05-01", "2024-05-01 12:00:00", "2024-05-01T12:00", "yesterday",
		"1714564800000", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-05-01T12:00:00+25:00",
		"1969-12-31T23:59:59Z", "2024-05-01T12:00:00Zjunk"} {
		if got, err := parseDateTime(bad); err == nil {
			t.Errorf("parseDateTime(%q) = %d, want an error", bad, got)
		} else if !strings.Contains(err.Error(), "--to-datetime") {
			t.Errorf("parseDateTime(%q): error %q does not name the flag", bad, err)
		}
	}
}

func TestResetOptionsConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       resetOptions
		changed []string
		want    resetConfig
		wantErr string
	}{
		{name: "earliest dry run", o: resetOptions{topics: []string{"t"}, toEarliest: true},
			want: resetConfig{topics: topicSpecs{"t": nil}, spec: resetSpec{mode: resetToEarliest}}},
		{name: "latest execute", o: resetOptions{topics: []string{"t:1"}, toLatest: true, execute: true, output: "JSON"},
			want: resetConfig{topics: topicSpecs{"t": {1}}, spec: resetSpec{mode: resetToLatest}, execute: true, format: outputJSON}},
		{name: "offset", o: resetOptions{allTopics: true, toOffset: 7}, changed: []string{"to-offset"},
			want: resetConfig{spec: resetSpec{mode: resetToOffset, offset: 7}}},
		{name: "offset zero", o: resetOptions{allTopics: true}, changed: []string{"to-offset"},
			want: resetConfig{spec: resetSpec{mode: resetToOffset}}},
		{name: "shift back", o: resetOptions{allTopics: true, shiftBy: -3}, changed: []string{"shift-by"},
			want: resetConfig{spec: resetSpec{mode: resetShiftBy, offset: -3}}},
		{name: "datetime", o: resetOptions{allTopics: true, toDatetime: "1970-01-01T00:00:01Z"}, changed: []string{"to-datetime"},
			want: resetConfig{spec: resetSpec{mode: resetToDatetime, millis: 1000}}},
		{name: "explicit dry run", o: resetOptions{allTopics: true, toEarliest: true, dryRun: true},
			want: resetConfig{spec: resetSpec{mode: resetToEarliest}}},

		{name: "no scope", o: resetOptions{toEarliest: true}, wantErr: "give --topic TOPIC[:PARTITION,...] (repeatable) or --all-topics"},
		{name: "both scopes", o: resetOptions{topics: []string{"t"}, allTopics: true, toEarliest: true},
			wantErr: "--topic and --all-topics are exclusive"},
		{name: "no mode", o: resetOptions{allTopics: true}, wantErr: "give where to reset to: one of --to-earliest"},
		{name: "false bool is no mode", o: resetOptions{allTopics: true}, changed: []string{"to-earliest"},
			wantErr: "give where to reset to"},
		{name: "two modes", o: resetOptions{allTopics: true, toEarliest: true}, changed: []string{"shift-by"},
			wantErr: "--to-earliest and --shift-by are exclusive: give one"},
		{name: "three modes", o: resetOptions{allTopics: true, toEarliest: true, toLatest: true}, changed: []string{"to-datetime"},
			wantErr: "--to-earliest and --to-latest and --to-datetime are exclusive"},
		{name: "dry run and execute", o: resetOptions{allTopics: true, toEarliest: true, dryRun: true, execute: true},
			wantErr: "--dry-run and --execute are exclusive"},
		{name: "negative offset", o: resetOptions{allTopics: true, toOffset: -1}, changed: []string{"to-offset"},
			wantErr: "--to-offset must be >= 0, got -1"},
		{name: "bad datetime", o: resetOptions{allTopics: true, toDatetime: "now"}, changed: []string{"to-datetime"},
			wantErr: `--to-datetime "now": want RFC 3339`},
		{name: "bad topic", o: resetOptions{topics: []string{"t:x"}, toEarliest: true}, wantErr: `partition "x"`},
		{name: "bad output", o: resetOptions{allTopics: true, toEarliest: true, output: "yaml"}, wantErr: "want table or json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.o.output == "" {
				tc.o.output = "table"
			}
			if tc.want.format == "" {
				tc.want.format = outputTable
			}
			changed := func(name string) bool {
				for _, c := range tc.changed {
					if c == name {
						return true
					}
				}
				return false
			}
			got, err := tc.o.config(changed)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestPlanReset(t *testing.T) {
	// p0: committed 4 of [0,10); p1: committed 7 of [5,10); p2: no commit,
	// [2,8). atTime is where --to-datetime lands.
	ps := []partitionPosition{
		{topic: "t", partition: 0, committed: 4, logStart: 0, logEnd: 10, atTime: 3},
		{topic: "t", partition: 1, committed: 7, logStart: 5, logEnd: 10, atTime: 10},
		{topic: "t", partition: 2, committed: -1, logStart: 2, logEnd: 8, atTime: 2},
	}
	for _, tc := range []struct {
		name     string
		spec     resetSpec
		ps       []partitionPosition
		want     []int64
		warnings []string
		wantErr  string
	}{
		{name: "earliest", spec: resetSpec{mode: resetToEarliest}, ps: ps, want: []int64{0, 5, 2}},
		{name: "latest", spec: resetSpec{mode: resetToLatest}, ps: ps, want: []int64{10, 10, 8}},
		{name: "datetime", spec: resetSpec{mode: resetToDatetime}, ps: ps, want: []int64{3, 10, 2}},
		{name: "offset inside", spec: resetSpec{mode: resetToOffset, offset: 6}, ps: ps, want: []int64{6, 6, 6}},
		{name: "offset clamped", spec: resetSpec{mode: resetToOffset, offset: 9}, ps: ps, want: []int64{9, 9, 8},
			warnings: []string{`topic "t" partition 2: offset 9 is past the log end offset 8; using 8`}},
		{name: "offset below start", spec: resetSpec{mode: resetToOffset, offset: 1}, ps: ps, want: []int64{1, 5, 2},
			warnings: []string{
				`topic "t" partition 1: offset 1 is before the log start offset 5; using 5`,
				`topic "t" partition 2: offset 1 is before the log start offset 2; using 2`,
			}},
		{name: "shift forward", spec: resetSpec{mode: resetShiftBy, offset: 2}, ps: ps[:2], want: []int64{6, 9}},
		{name: "shift clamped", spec: resetSpec{mode: resetShiftBy, offset: -5}, ps: ps[:2], want: []int64{0, 5},
			warnings: []string{
				`topic "t" partition 0: offset -1 is before the log start offset 0; using 0`,
				`topic "t" partition 1: offset 2 is before the log start offset 5; using 5`,
			}},
		{name: "shift overflow", spec: resetSpec{mode: resetShiftBy, offset: math.MaxInt64}, ps: ps[:1], want: []int64{10},
			warnings: []string{`topic "t" partition 0: offset 9223372036854775807 is past the log end offset 10; using 10`}},
		{name: "shift zero", spec: resetSpec{mode: resetShiftBy}, ps: ps[:2], want: []int64{4, 7}},
		{name: "shift without commit", spec: resetSpec{mode: resetShiftBy, offset: 1}, ps: ps,
			wantErr: "cannot --shift-by in partitions without a committed offset: t:2 (leave them out"},
		{name: "empty partition", spec: resetSpec{mode: resetToOffset, offset: 3},
			ps: []partitionPosition{{topic: "e", committed: -1}}, want: []int64{0},
			warnings: []string{`topic "e" partition 0: offset 3 is past the log end offset 0; using 0`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, warnings, err := planReset(tc.spec, tc.ps)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for i, r := range rows {
				p := tc.ps[i]
				if r.Topic != p.topic || r.Partition != p.partition || r.CurrentOffset != p.committed {
					t.Errorf("row %d = %+v, want it to describe %+v", i, r, p)
				}
				got = append(got, r.NewOffset)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("new offsets %v, want %v", got, tc.want)
			}
			if !reflect.DeepEqual(warnings, tc.warnings) {
				t.Errorf("warnings %q, want %q", warnings, tc.warnings)
			}
		})
	}
}

func TestAddSaturating(t *testing.T) {
	for _, tc := range [][3]int64{
		{1, 2, 3}, {5, -7, -2}, {math.MaxInt64, 1, math.MaxInt64}, {math.MaxInt64 - 1, 1, math.MaxInt64},
		{math.MinInt64, -1, math.MinInt64}, {-2, math.MinInt64, math.MinInt64}, {math.MaxInt64, math.MinInt64, -1},
	} {
		if got := addSaturating(tc[0], tc[1]); got != tc[2] {
			t.Errorf("addSaturating(%d, %d) = %d, want %d", tc[0], tc[1], got, tc[2])
		}
	}
}

func TestGroupOffsets(t *testing.T) {
	members := []groupMember{{MemberID: "m1", ClientID: "c1", ClientHost: "/10.0.0.1",
		Assignments: []topicAssignment{{Topic: "a", Partitions: []int32{0, 1}}}}}
	commits := kadm.OffsetResponses{}
	for _, o := range []kadm.OffsetResponse{
		{Offset: kadm.Offset{Topic: "a", Partition: 0, At: 4}},
		{Offset: kadm.Offset{Topic: "b", Partition: 0, At: 12}},   // past the end: negative lag
		{Offset: kadm.Offset{Topic: "b", Partition: 1, At: -1}},   // no commit, unassigned: no row
		{Offset: kadm.Offset{Topic: "gone", Partition: 0, At: 3}}, // topic deleted
		{Offset: kadm.Offset{Topic: "c", Partition: 0, At: 1}, Err: kerr.UnstableOffsetCommit},
	} {
		commits.Add(o)
	}
	ends := kadm.ListedOffsets{
		"a":    {0: {Topic: "a", Partition: 0, Offset: 10}, 1: {Topic: "a", Partition: 1, Offset: 3}},
		"b":    {0: {Topic: "b", Partition: 0, Offset: 10}},
		"c":    {0: {Topic: "c", Partition: 0, Offset: 5}},
		"gone": {-1: {Topic: "gone", Partition: -1, Err: kerr.UnknownTopicOrPartition}},
	}
	got := groupOffsets(members, commits, ends)
	want := []groupOffset{
		{Topic: "a", Partition: 0, CommittedOffset: 4, LogEndOffset: 10, Lag: 6, MemberID: "m1", ClientID: "c1", ClientHost: "/10.0.0.1"},
		{Topic: "a", Partition: 1, CommittedOffset: -1, LogEndOffset: 3, Lag: -1, MemberID: "m1", ClientID: "c1", ClientHost: "/10.0.0.1"},
		{Topic: "b", Partition: 0, CommittedOffset: 12, LogEndOffset: 10, Lag: -2},
		{Topic: "c", Partition: 0, CommittedOffset: -1, LogEndOffset: 5, Lag: -1,
			Error: "committed offset: " + kerr.UnstableOffsetCommit.Error()},
		{Topic: "gone", Partition: 0, CommittedOffset: 3, LogEndOffset: -1, Lag: -1,
			Error: "log end offset: " + kerr.UnknownTopicOrPartition.Error()},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
	if lag := totalLag(got); lag != 6 {
		t.Errorf("total lag %d, want 6 (unknown and negative lags left out)", lag)
	}
	if got := groupOffsets(nil, nil, nil); got == nil || len(got) != 0 {
		t.Errorf("no rows = %#v, want an empty slice", got)
	}
}

func TestPrintGroupList(t *testing.T) {
	groups := []groupSummary{
		{Group: "audit", State: "Stable", ProtocolType: "consumer", Coordinator: 1},
		{Group: "old", Coordinator: 2},
	}
	var b bytes.Buffer
	if err := printGroupList(&b, outputTable, groups); err != nil {
		t.Fatal(err)
	}
	want := `GROUP  STATE   PROTOCOL-TYPE  COORDINATOR
audit  Stable  consumer       1
old    -       -              2
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := printGroupList(&b, outputJSON, groups[:1]); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if keys := sortedKeys(got[0]); !reflect.DeepEqual(keys, []string{"coordinator", "group", "protocol_type", "state"}) {
		t.Errorf("keys %v", keys)
	}
	b.Reset()
	if err := printGroupList(&b, outputJSON, nil); err != nil || strings.TrimSpace(b.String()) != "[]" {
		t.Errorf("empty list = %q, %v; want []", b.String(), err)
	}
}

func sampleGroup() groupDescription {
	return groupDescription{
		Group: "audit", State: "Stable", ProtocolType: "consumer", Protocol: "cooperative-sticky",
		Coordinator: groupCoordinator{NodeID: 1, Host: "broker1", Port: 9092},
		Members: []groupMember{
			{MemberID: "m-1", InstanceID: "host-a", ClientID: "app", ClientHost: "/10.0.0.1",
				Assignments: []topicAssignment{{Topic: "orders", Partitions: []int32{0, 1}}, {Topic: "pay", Partitions: []int32{2}}}},
			{MemberID: "m-2", ClientID: "app", ClientHost: "/10.0.0.2", Assignments: []topicAssignment{}},
		},
		Offsets: []groupOffset{
			{Topic: "orders", Partition: 0, CommittedOffset: 4, LogEndOffset: 10, Lag: 6, MemberID: "m-1", ClientID: "app", ClientHost: "/10.0.0.1"},
			{Topic: "orders", Partition: 1, CommittedOffset: -1, LogEndOffset: 3, Lag: -1, MemberID: "m-1", ClientID: "app", ClientHost: "/10.0.0.1"},
			{Topic: "old", Partition: 0, CommittedOffset: 12, LogEndOffset: 10, Lag: -2},
			{Topic: "pay", Partition: 2, CommittedOffset: 1, LogEndOffset: -1, Lag: -1, MemberID: "m-1", ClientID: "app",
				ClientHost: "/10.0.0.1", Error: "log end offset: NOT_LEADER_OR_FOLLOWER"},
		},
		TotalLag: 6,
	}
}

func TestPrintGroupDescriptionTable(t *testing.T) {
	var b bytes.Buffer
	if err := printGroupDescriptions(&b, outputTable, []groupDescription{sampleGroup()}); err != nil {
		t.Fatal(err)
	}
	want := `Group:          audit
State:          Stable
Protocol type:  consumer
Protocol:       cooperative-sticky
Coordinator:    1 (broker1:9092)
Members:        2
Total lag:      6

CONSUMER-ID  INSTANCE-ID  HOST       CLIENT-ID  #PARTITIONS  ASSIGNMENT
m-1          host-a       /10.0.0.1  app        3            orders(0,1),pay(2)
m-2          -            /10.0.0.2  app        0            -

TOPIC   PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID  HOST       CLIENT-ID  ERROR
orders  0          4               10              6    m-1          /10.0.0.1  app        -
orders  1          -               3               -    m-1          /10.0.0.1  app        -
old     0          12              10              -2   -            -          -          -
pay     2          1               -               -    m-1          /10.0.0.1  app        log end offset: NOT_LEADER_OR_FOLLOWER
`
	if got := b.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}

	// An Empty group without offsets, after another group.
	b.Reset()
	empty := groupDescription{Group: "new", State: "Empty", Coordinator: groupCoordinator{NodeID: 0, Host: "::1", Port: 9092}}
	if err := printGroupDescriptions(&b, outputTable, []groupDescription{empty}); err != nil {
		t.Fatal(err)
	}
	want = `Group:          new
State:          Empty
Protocol type:  -
Protocol:       -
Coordinator:    0 ([::1]:9092)
Members:        0
Total lag:      0

No partition is assigned and no offset is committed.
`
	if got := b.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestPrintGroupDescriptionJSON(t *testing.T) {
	var b bytes.Buffer
	if err := printGroupDescriptions(&b, outputJSON, []groupDescription{sampleGroup()}); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("invalid JSON %q: %v", b.String(), err)
	}
	g := got[0]
	for _, keys := range []struct {
		obj  map[string]any
		want []string
	}{
		{g, []string{"coordinator", "group", "members", "offsets", "protocol", "protocol_type", "state", "total_lag"}},
		{g["coordinator"].(map[string]any), []string{"host", "node_id", "port"}},
		{g["members"].([]any)[0].(map[string]any), []string{"assignments", "client_host", "client_id", "instance_id", "member_id"}},
		{g["members"].([]any)[0].(map[string]any)["assignments"].([]any)[0].(map[string]any), []string{"partitions", "topic"}},
		{g["offsets"].([]any)[0].(map[string]any), []string{"client_host", "client_id", "committed_offset", "lag",
			"log_end_offset", "member_id", "partition", "topic"}},
	} {
		if k := sortedKeys(keys.obj); !reflect.DeepEqual(k, keys.want) {
			t.Errorf("keys %v, want %v", k, keys.want)
		}
	}
	if e := g["offsets"].([]any)[3].(map[string]any)["error"]; e != "log end offset: NOT_LEADER_OR_FOLLOWER" {
		t.Errorf("error = %v", e)
	}
	if a := g["members"].([]any)[1].(map[string]any)["assignments"]; a == nil {
		t.Error("no assignments encode as null, want []")
	}

	// Round trip: scripts (and the integration test) decode this shape.
	var back []groupDescription
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || !reflect.DeepEqual(back[0], sampleGroup()) {
		t.Errorf("round trip: %v\n%+v", err, back)
	}
}

func TestPrintResetResult(t *testing.T) {
	res := resetResult{Group: "audit", Offsets: []resetRow{
		{Topic: "orders", Partition: 0, CurrentOffset: 4, NewOffset: 0},
		{Topic: "orders", Partition: 1, CurrentOffset: -1, NewOffset: 10},
	}}
	var b bytes.Buffer
	if err := printResetResult(&b, outputTable, res); err != nil {
		t.Fatal(err)
	}
	want := `TOPIC   PARTITION  CURRENT-OFFSET  NEW-OFFSET
orders  0          4               0
orders  1          -               10
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	res.Executed = true
	res.Offsets[1].Error = "UNKNOWN_MEMBER_ID"
	if err := printResetResult(&b, outputJSON, res); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if k := sortedKeys(got); !reflect.DeepEqual(k, []string{"executed", "group", "offsets"}) || got["executed"] != true {
		t.Errorf("result %v", got)
	}
	rows := got["offsets"].([]any)
	if k := sortedKeys(rows[0].(map[string]any)); !reflect.DeepEqual(k, []string{"current_offset", "new_offset", "partition", "topic"}) {
		t.Errorf("row keys %v (error omitted when empty)", k)
	}
	if rows[1].(map[string]any)["error"] != "UNKNOWN_MEMBER_ID" {
		t.Errorf("row 1 = %v", rows[1])
	}
}

func TestPrintOffsetDeletions(t *testing.T) {
	var b bytes.Buffer
	rows := []offsetDeletion{{Topic: "t", Partition: 0}, {Topic: "t", Partition: 1, Error: "GROUP_SUBSCRIBED_TO_TOPIC: x"}}
	if err := printOffsetDeletions(&b, outputTable, "g", rows); err != nil {
		t.Fatal(err)
	}
	want := `TOPIC  PARTITION  STATUS
t      0          Deleted
t      1          Error: GROUP_SUBSCRIBED_TO_TOPIC: x
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := printOffsetDeletions(&b, outputJSON, "g", nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(b.String()), ""); got != `{"group":"g","offsets":[]}` {
		t.Errorf("empty JSON = %s", got)
	}
}

func TestKafkaErrorText(t *testing.T) {
	wrapped := errors.Join(errors.New("ctx"), kerr.NonEmptyGroup)
	if got := kafkaErrorText(wrapped, errors.New("fallback")); got != kerr.NonEmptyGroup.Error() {
		t.Errorf("got %q", got)
	}
	if got := kafkaErrorText(nil, errors.New("fallback")); got != "fallback" {
		t.Errorf("got %q", got)
	}
}

func TestGroupHelp(t *testing.T) {
	for _, args := range [][]string{
		{"group", "--help"},
		{"group", "list", "--help"},
		{"group", "describe", "--help"},
		{"group", "reset-offsets", "--help"},
		{"group", "delete", "--help"},
		{"group", "delete-offsets", "--help"},
	} {
		r := runCLI(t, context.Background(), "", args...)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%v: code %d, stderr %q, help without examples:\n%s", args, r.code, r.stderr, r.stdout)
		}
	}
	r := runCLI(t, context.Background(), "", "group", "reset-offsets", "--help")
	for _, flag := range []string{"--topic", "--all-topics", "--to-earliest", "--to-latest", "--to-offset", "--to-datetime",
		"--shift-by", "--dry-run", "--execute", "--output", "--bootstrap-server", "RFC 3339", "yyyy-MM-ddTHH:mm:ss"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("group reset-offsets --help does not mention %s", flag)
		}
	}
	if r := runCLI(t, context.Background(), "", "--help"); !strings.Contains(r.stdout, "group") {
		t.Error("strata --help does not list the group command")
	}
}

// TestGroupUsageErrors checks that bad invocations fail before connecting
// (there is no broker here) with a pointer to --help.
func TestGroupUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"group", "lst"}, `did you mean "list"?`},
		{[]string{"group", "list", "x"}, "want no arguments"},
		{[]string{"group", "list", "--state", "running"}, "want one of Stable"},
		{[]string{"group", "list", "--output", "yaml"}, "want table or json"},
		{[]string{"group", "describe", "--output", "xml"}, "want table or json"},
		{[]string{"group", "delete"}, "at least one GROUP"},
		{[]string{"group", "delete-offsets", "g"}, "--topic TOPIC[:PARTITION,...] is required"},
		{[]string{"group", "delete-offsets", "g", "--topic", "t:a"}, `partition "a"`},
		{[]string{"group", "delete-offsets"}, "want one GROUP"},
		{[]string{"group", "reset-offsets", "--topic", "t", "--to-earliest"}, "want one GROUP"},
		{[]string{"group", "reset-offsets", "g", "--to-earliest"}, "give --topic"},
		{[]string{"group", "reset-offsets", "g", "--topic", "t"}, "give where to reset to"},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--to-latest", "--to-offset", "3"},
			"--to-latest and --to-offset are exclusive"},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--to-datetime", "2024-05-01"}, "want RFC 3339"},
		{[]string{"group", "reset-offsets", "g", "--topic", "t", "--shift-by", "x"}, `invalid argument "x" for "--shift-by"`},
		{[]string{"group", "reset-offsets", "g", "--all-topics", "--to-earliest", "--execute", "--dry-run"},
			"--dry-run and --execute are exclusive"},
	} {
		r := runCLI(t, context.Background(), "", append(tc.args, "--bootstrap-server", "127.0.0.1:1")...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "strata: ") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: code %d, stderr %q; want exit 1 and %q", tc.args, r.code, r.stderr, tc.want)
		}
		if !strings.Contains(r.stderr, "--help' for usage") {
			t.Errorf("%v: usage error does not point at --help: %q", tc.args, r.stderr)
		}
	}
}

// FuzzParseDateTime checks that any --to-datetime either fails cleanly or
// yields a non-negative time that round-trips through RFC 3339.
func FuzzParseDateTime(f *testing.F) {
	for _, seed := range []string{"2024-05-01T12:00:00Z", "2024-05-01T12:00:00.250+02:00", "2024-05-01T12:00:00",
		"2024-05-01T12:00:00.000", "2024-05-01T14:00:00+0200", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ms, err := parseDateTime(in)
		if err != nil {
			return
		}
		if ms < 0 {
			t.Fatalf("parseDateTime(%q) = %d < 0", in, ms)
		}
		again, err := parseDateTime(time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00"))
		if err != nil || again != ms {
			t.Fatalf("parseDateTime(%q) = %d does not round-trip: %d, %v", in, ms, again, err)
		}
	})
}

// FuzzParseTopicSpecs checks that parsed specs name only non-empty topics
// without ':' and sorted, distinct, non-negative partitions.
func FuzzParseTopicSpecs(f *testing.F) {
	for _, seed := range []string{"t", "t:0", "t:2,1,2", "a:", ":1", "a:b:c", "t:-1", "t: 1 ,2"} {
		f.Add(seed, "t:3")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		specs, err := parseTopicSpecs([]string{a, b})
		if err != nil {
			return
		}
		for topic, ps := range specs {
			if topic == "" || strings.Contains(topic, ":") {
				t.Fatalf("%q %q: topic %q", a, b, topic)
			}
			for i, p := range ps {
				if p < 0 || (i > 0 && p <= ps[i-1]) {
					t.Fatalf("%q %q: partitions %v", a, b, ps)
				}
			}
		}
	})
}
