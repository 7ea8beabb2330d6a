package main

// End-to-end tests of `strata txn` against a broker.
//
// TestTxnScenario runs against franz-go's fake broker (kfake) always, and
// against the broker at $STRATA_TEST_BOOTSTRAP when that is set (for
// example a Strata agent started with `make run`). It uses fresh topic and
// transactional ids so it can be rerun against a long-lived broker. The
// transactions are a real franz-go transactional producer's.

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestTxnScenario(t *testing.T) {
	t.Run("kfake", func(t *testing.T) {
		txnScenario(t, newCLI(t, strings.Join(startKfake(t).ListenAddrs(), ",")))
	})
	t.Run("external", func(t *testing.T) {
		addr := os.Getenv(envTestBootstrap)
		if addr == "" {
			t.Skipf("%s is unset; set it to a broker address (e.g. localhost:9092 after 'make run') "+
				"to run this scenario against a real broker", envTestBootstrap)
		}
		txnScenario(t, newCLI(t, addr))
	})
}

// txnScenario lists and describes a transactional id while its
// transaction is open and after it committed.
func txnScenario(t *testing.T, c *cli) {
	topic := fmt.Sprintf("strata-txn-test-%d", time.Now().UnixNano())
	id := topic + "-producer"
	c.ok("", "topic", "create", topic, "--partitions", "2")
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c.bootstrap, ",")...), kgo.TransactionalID(id),
		kgo.TransactionTimeout(time.Minute), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(c.ctx, &kgo.Record{Partition: 1, Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("produce in a transaction: %v", err)
	}

	var listed []txnSummary
	decode(t, c.ok("", "txn", "list", "--output", "json"), &listed)
	i := slices.IndexFunc(listed, func(s txnSummary) bool { return s.TransactionalID == id })
	if i < 0 || listed[i].State != "Ongoing" || listed[i].ProducerID < 0 {
		t.Fatalf("txn list = %+v, want %q Ongoing", listed, id)
	}
	pid := listed[i].ProducerID
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--state", "ongoing"}, true},
		{[]string{"--state", "CompleteCommit,empty"}, false},
		{[]string{"--producer-id", fmt.Sprint(pid)}, true},
		{[]string{"--producer-id", fmt.Sprint(pid + 1000)}, false},
	} {
		var got []txnSummary
		decode(t, c.ok("", append([]string{"txn", "list", "--output", "json"}, tc.args...)...), &got)
		if has := slices.ContainsFunc(got, func(s txnSummary) bool { return s.TransactionalID == id }); has != tc.want {
			t.Errorf("txn list %v = %+v; listed %q: %v, want %v", tc.args, got, id, has, tc.want)
		}
	}
	table := c.ok("", "txn", "list")
	if !strings.HasPrefix(table, "TRANSACTIONAL-ID") || !strings.Contains(table, id) {
		t.Errorf("txn list table:\n%s", table)
	}

	d := describeTxn(t, c, id)
	if d.State != "Ongoing" || d.ProducerID != pid || d.TimeoutMS != 60000 || d.StartTime == "" ||
		len(d.Partitions) != 1 || d.Partitions[0].Topic != topic || !slices.Equal(d.Partitions[0].Partitions, []int32{1}) {
		t.Fatalf("describe while open = %+v", d)
	}
	if err := cl.EndTransaction(c.ctx, kgo.TryCommit); err != nil {
		t.Fatalf("commit: %v", err)
	}
	// Kafka reports CompleteCommit (once the markers are written); kfake
	// forgets finished transactions and reports Empty.
	deadline := time.Now().Add(30 * time.Second)
	for d = describeTxn(t, c, id); d.State != "CompleteCommit" && d.State != "Empty"; d = describeTxn(t, c, id) {
		if time.Now().After(deadline) {
			t.Fatalf("describe after the commit = %+v", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(d.Partitions) != 0 {
		t.Errorf("describe after the commit lists partitions %+v", d.Partitions)
	}
	table = c.ok("", "txn", "describe", id)
	if !strings.HasPrefix(table, "TRANSACTIONAL-ID") || !strings.Contains(table, id) {
		t.Errorf("txn describe table:\n%s", table)
	}
	c.fails("transactional id does not exist", "txn", "describe", id+"-unknown")
	c.fails("--state \"finished\"", "txn", "list", "--state", "finished")
	c.ok("", "topic", "delete", topic)
}

func describeTxn(t *testing.T, c *cli, id string) txnDescription {
	t.Helper()
	var ds []txnDescription
	decode(t, c.ok("", "txn", "describe", id, "--output", "json"), &ds)
	if len(ds) != 1 || ds[0].TransactionalID != id {
		t.Fatalf("txn describe %s = %+v", id, ds)
	}
	return ds[0]
}

func decode(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, out)
	}
}
