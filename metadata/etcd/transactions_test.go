package etcd

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/strata-io/strata/metadata"
)

func TestTxnKeys(t *testing.T) {
	k := keys{prefix: "/p/"}
	for _, id := range []string{"t", "a/b", "%2F", "with space", "ünï/cödé", "..", "a\x00b", "?#&="} {
		key := k.txnID(7, id)
		if got, err := k.parseTxnID(7, key); err != nil || got != id {
			t.Errorf("parseTxnID(%q) = %q, %v; want %q", key, got, err, id)
		}
		off := k.groupTxnOffset(12, id, 42, metadata.GroupPartition{Topic: "t.x", Partition: 3})
		want := groupKey{shard: 12, name: id, partition: metadata.GroupPartition{Topic: "t.x", Partition: 3}, txn: true, producerID: 42}
		if got, err := k.parseGroupKey(off); err != nil || got != want {
			t.Errorf("parseGroupKey(%q) = %+v, %v; want %+v", off, got, err, want)
		}
	}
	if got := k.txnID(3, "a/b"); got != "/p/txn/0003/ids/a%2Fb" {
		t.Errorf("transaction key %q", got)
	}
	if got := k.txnEpoch(3); got != "/p/txn/0003/epoch" {
		t.Errorf("epoch key %q", got)
	}
	if got := k.groupTxnOffset(3, "g", 42, metadata.GroupPartition{Topic: "t", Partition: 1}); got != "/p/groups/0003/g/txn-offsets/00000000000000000042/t/0000000001" {
		t.Errorf("pending offset key %q", got)
	}
	for _, bad := range []string{"/p/txn/0007/ids/", "/p/txn/0007/ids/a%2fb", "/p/txn/0007/ids/%zz", "/p/txn/0008/ids/t", "/p/txn/0007/epoch"} {
		if _, err := k.parseTxnID(7, bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("parseTxnID(%q) = %v, want ErrCorrupt", bad, err)
		}
	}
	for _, bad := range []string{
		"/p/groups/0012/g/txn-offsets/42/t/0000000001", "/p/groups/0012/g/txn-offsets/-0000000000000000042/t/0000000001",
		"/p/groups/0012/g/txn-offsets/00000000000000000042", "/p/groups/0012/g/txn-offsets/00000000000000000042/t/1",
		"/p/groups/0012/g/txn-offsets/00000000000000000042/t", "/p/groups/0012/g/txn-offsets/0000000000000000004x/t/0000000001",
	} {
		if _, err := k.parseGroupKey(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("parseGroupKey(%q) = %v, want ErrCorrupt", bad, err)
		}
	}
}

func sampleTxn() metadata.Transaction {
	return metadata.Transaction{
		TransactionalID: "t", ProducerID: 5, ProducerEpoch: 2, LastProducerID: 4, LastProducerEpoch: 32766,
		Timeout: 90 * time.Second, State: metadata.TxnPrepareCommit,
		Partitions: []metadata.TxnPartition{{Topic: "a", Partition: 0}, {Topic: "a", Partition: 7}, {Topic: "b", Partition: 1}},
		Groups:     []string{"g"},
		StartTime:  time.Date(2025, 1, 2, 3, 4, 5, 6000000, time.UTC),
		LastUpdate: time.Date(2025, 1, 2, 3, 4, 6, 0, time.UTC),
	}
}

func TestTransactionCodec(t *testing.T) {
	for _, x := range []metadata.Transaction{
		sampleTxn(),
		{TransactionalID: "t", ProducerID: 0, ProducerEpoch: 0, LastProducerID: -1, LastProducerEpoch: -1,
			Timeout: time.Millisecond, State: metadata.TxnEmpty, LastUpdate: time.Unix(1, 0).UTC()},
	} {
		got, err := decodeTransaction("t", []byte(encodeTransaction(x)))
		if err != nil || !reflect.DeepEqual(got, x) {
			t.Errorf("round trip = %+v, %v; want %+v", got, err, x)
		}
	}
	for in, want := range map[string]error{
		`{"v":2}`: ErrVersion,
		`{"v":1,"producer_id":1,"producer_epoch":0,"last_producer_id":-1,"last_producer_epoch":-1,"timeout_ms":0,"state":"Empty"}`:                                                   ErrCorrupt,
		`{"v":1,"producer_id":1,"producer_epoch":0,"last_producer_id":-1,"last_producer_epoch":-1,"timeout_ms":1e12,"state":"Empty"}`:                                                ErrCorrupt,
		`{"v":1,"producer_id":1,"producer_epoch":0,"last_producer_id":-1,"last_producer_epoch":-1,"timeout_ms":1,"state":"Dead"}`:                                                    ErrCorrupt,
		`{"v":1,"producer_id":-1,"producer_epoch":0,"last_producer_id":-1,"last_producer_epoch":-1,"timeout_ms":1,"state":"Empty"}`:                                                  ErrCorrupt,
		`{"v":1,"producer_id":1,"producer_epoch":0,"last_producer_id":-1,"last_producer_epoch":-1,"timeout_ms":1,"state":"Ongoing","partitions":[{"topic":"a","partitions":[2,1]}]}`: ErrCorrupt,
		`{"v":1,"producer_id":1,"producer_epoch":0,"last_producer_id":-1,"last_producer_epoch":-1,"timeout_ms":1,"state":"Empty","groups":["g"]}`:                                    ErrCorrupt,
		`not json`: ErrCorrupt,
	} {
		if _, err := decodeTransaction("t", []byte(in)); !errors.Is(err, want) {
			t.Errorf("decodeTransaction(%s) = %v, want %v", in, err, want)
		}
	}
}

// FuzzDecodeTransaction feeds arbitrary keys and values under txn/ and
// pending-offset keys to their decoders: none may panic, and whatever
// decodes re-encodes to a value that decodes the same.
func FuzzDecodeTransaction(f *testing.F) {
	k := keys{prefix: DefaultPrefix}
	f.Add(k.txnID(1, "a/b"), []byte(encodeTransaction(sampleTxn())))
	f.Add(k.txnID(1, "t"), []byte(`{"v":1,"producer_id":1,"producer_epoch":0,"last_producer_id":-1,"last_producer_epoch":-1,"timeout_ms":1,"state":"Empty","last_update":"2025-01-01T00:00:00+02:00"}`))
	f.Add(k.groupTxnOffset(1, "g", 9, metadata.GroupPartition{Topic: "t", Partition: 2}),
		[]byte(encodeTxnOffset(3, metadata.CommittedOffset{Topic: "t", TopicID: metadata.NewTopicID(), Partition: 2, Offset: 9, LeaderEpoch: -1})))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		if id, err := k.parseTxnID(1, key); err == nil {
			x, err := decodeTransaction(id, value)
			if err != nil {
				return
			}
			again, err := decodeTransaction(id, []byte(encodeTransaction(x)))
			if err != nil || !sameTxn(x, again) {
				t.Fatalf("transaction re-decode = %+v, %v; want %+v", again, err, x)
			}
			return
		}
		gk, err := k.parseGroupKey(key)
		if err != nil || !gk.txn {
			return
		}
		var sg metadata.StoredGroup
		if err := addTxnOffset(&sg, gk, value); err != nil {
			return
		}
		p := sg.TxnOffsets[0]
		var again metadata.StoredGroup
		if err := addTxnOffset(&again, gk, []byte(encodeTxnOffset(p.ProducerEpoch, p.Offsets[0]))); err != nil {
			t.Fatalf("pending offset re-decode: %v", err)
		}
		q := again.TxnOffsets[0]
		if q.ProducerEpoch != p.ProducerEpoch || !q.Offsets[0].CommitTime.Equal(p.Offsets[0].CommitTime) {
			t.Fatalf("pending offset re-decode = %+v; want %+v", q, p)
		}
		q.Offsets[0].CommitTime = p.Offsets[0].CommitTime
		if q.Offsets[0] != p.Offsets[0] {
			t.Fatalf("pending offset re-decode = %+v; want %+v", q.Offsets[0], p.Offsets[0])
		}
	})
}

func sameTxn(a, b metadata.Transaction) bool {
	if !a.StartTime.Equal(b.StartTime) || !a.LastUpdate.Equal(b.LastUpdate) {
		return false
	}
	a.StartTime, a.LastUpdate, b.StartTime, b.LastUpdate = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}
