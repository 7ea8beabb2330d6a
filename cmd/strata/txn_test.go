package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
)

func TestParseTxnStates(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
		bad  bool
	}{
		{nil, nil, false},
		{[]string{"ongoing"}, []string{"Ongoing"}, false},
		{[]string{"PrepareCommit, completeabort", "ONGOING", "ongoing"}, []string{"CompleteAbort", "Ongoing", "PrepareCommit"}, false},
		{[]string{"dead,prepareepochfence,empty,completecommit,prepareabort"}, []string{"CompleteCommit", "Dead", "Empty", "PrepareAbort", "PrepareEpochFence"}, false},
		{[]string{"stable"}, nil, true},
		{[]string{"ongoing,"}, nil, true},
	} {
		got, err := parseTxnStates(tc.in)
		if (err != nil) != tc.bad || !slices.Equal(got, tc.want) {
			t.Errorf("parseTxnStates(%q) = %q, %v; want %q (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestTxnDescriptionOf(t *testing.T) {
	topics := kadm.TopicsSet{}
	topics.Add("b", 3, 1)
	topics.Add("a", 0)
	d := txnDescriptionOf(kadm.DescribedTransaction{Coordinator: 2, TxnID: "x", State: "Ongoing", TimeoutMillis: 60000,
		StartTimestamp: 1700000000123, ProducerID: 9, ProducerEpoch: 4, Topics: topics})
	if d.StartTime != "2023-11-14T22:13:20.123Z" || len(d.Partitions) != 2 || d.Partitions[0].Topic != "a" ||
		!slices.Equal(d.Partitions[1].Partitions, []int32{1, 3}) || d.Coordinator != 2 || d.ProducerEpoch != 4 {
		t.Errorf("description = %+v", d)
	}
	idle := txnDescriptionOf(kadm.DescribedTransaction{TxnID: "y", State: "Empty", StartTimestamp: -1})
	if idle.StartTime != "" || idle.Partitions == nil || len(idle.Partitions) != 0 {
		t.Errorf("idle description = %+v", idle)
	}
	var buf bytes.Buffer
	if err := printTxnDescriptions(&buf, outputTable, []txnDescription{d, idle}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "a:0 b:1,3") || !strings.Contains(lines[1], "1m0s") ||
		!strings.Contains(lines[2], " - ") {
		t.Errorf("table:\n%s", buf.String())
	}
	buf.Reset()
	if err := printTxnList(&buf, outputJSON, nil); err != nil || strings.TrimSpace(buf.String()) != "[]" {
		t.Errorf("empty JSON list = %q, %v", buf.String(), err)
	}
}
