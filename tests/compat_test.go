package tests

// Client-compatibility tests: real Kafka clients other than franz-go
// (kcat/librdkafka, kafka-python, confluent-kafka, sarama, kafka-go)
// against a real `strata agent`. Each test starts its own agent, creates its
// topics (explicitly, and by auto-creation where a client does that),
// produces records and reads them back, and checks exactly what a user
// would: keys, values, headers, timestamps, partitions and offsets. Where a
// client compresses, franz-go reads the stored batches back to check the
// codec survived.
//
// The Debian clients (kcat, python3-kafka, python3-confluent-kafka) are
// skipped with a message naming the package when they are missing;
// tests/install-deps.sh installs them. The Python clients run as
// subprocesses (tests/clients/*.py) that time out on their own.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
)

// kcat runs kcat against addr and returns its stdout and stderr (where
// librdkafka logs). It is killed after 20s; produced records give up after
// 10s instead of librdkafka's default five minutes, and a consumer's
// fetches wait at most 100ms, so -e notices the end quickly.
func kcat(t testing.TB, addr string, stdin []byte, args ...string) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	argv := []string{"-b", addr}
	switch {
	case slices.Contains(args, "-P"):
		argv = append(argv, "-X", "message.timeout.ms=10000")
	case slices.Contains(args, "-C"):
		argv = append(argv, "-X", "fetch.wait.max.ms=100")
	}
	return compatRun(t, ctx, stdin, "kcat", append(argv, args...)...)
}

// kcatOut runs kcat like kcat and returns only its stdout.
func kcatOut(t testing.TB, addr string, stdin []byte, args ...string) []byte {
	t.Helper()
	out, _ := kcat(t, addr, stdin, args...)
	return out
}

// kcatMetadata is the part of `kcat -L -J` output the tests check.
type kcatMetadata struct {
	Brokers []struct {
		ID   int32  `json:"id"`
		Name string `json:"name"`
	} `json:"brokers"`
	Topics []struct {
		Topic      string `json:"topic"`
		Error      string `json:"error"`
		Partitions []struct {
			Partition int32 `json:"partition"`
			Leader    int32 `json:"leader"`
		} `json:"partitions"`
	} `json:"topics"`
}

func TestCompatKcat(t *testing.T) {
	compatRequireBinary(t, "kcat", "kcat")
	t.Parallel()
	p := startAgent(t)
	t.Run("metadata-keys-headers", func(t *testing.T) { testKcatKeysHeaders(t, p.addr) })
	t.Run("auto-create", func(t *testing.T) { testKcatAutoCreate(t, p.addr) })
	for _, c := range []struct {
		name  string
		codec uint8
	}{{"gzip", compatCodecGzip}, {"snappy", compatCodecSnappy}, {"lz4", compatCodecLZ4}, {"zstd", compatCodecZstd}} {
		t.Run("compression-"+c.name, func(t *testing.T) {
			compatSkipLZ4WithoutCoordinator(t, p.addr, c.name)
			testKcatCompression(t, p.addr, c.name, c.codec)
		})
	}
}

// testKcatKeysHeaders checks kcat -L against an explicitly created topic,
// produces keyed records with headers to both partitions and reads them
// back with kcat: whole partitions, every partition, and from an offset.
func testKcatKeysHeaders(t *testing.T, addr string) {
	topic := compatTopic(t, "keys")
	compatCreateTopic(t, addr, topic, 2)

	var md kcatMetadata
	if err := json.Unmarshal(kcatOut(t, addr, nil, "-L", "-J"), &md); err != nil {
		t.Fatalf("kcat -L -J output: %v", err)
	}
	checkKcatMetadata(t, md, addr, topic, 2)

	var want []compatRecord
	for part := range int32(2) {
		var in strings.Builder
		for i := range 5 {
			r := compatRecord{
				Partition: part, Offset: int64(i),
				Key:     fmt.Appendf(nil, "key-%d-%d", part, i),
				Value:   fmt.Appendf(nil, "value-%d-%d:with:colons", part, i),
				Headers: []compatHeader{{Key: "trace", Value: []byte("abc")}, {Key: "empty", Value: []byte{}}},
			}
			fmt.Fprintf(&in, "%s:%s\n", r.Key, r.Value)
			want = append(want, r)
		}
		kcat(t, addr, []byte(in.String()), "-P", "-t", topic, "-p", strconv.Itoa(int(part)),
			"-K:", "-H", "trace=abc", "-H", "empty=")
	}
	compatCheckEndOffsets(t, addr, topic, map[int32]int64{0: 5, 1: 5})

	// The plain key:value format, exactly as a user would run it.
	got := kcatOut(t, addr, nil, "-C", "-t", topic, "-p", "0", "-e", "-o", "beginning", "-f", `%k:%s\n`)
	var wantText strings.Builder
	for _, r := range compatRecordsFrom(want, 0, 0) {
		fmt.Fprintf(&wantText, "%s:%s\n", r.Key, r.Value)
	}
	if string(got) != wantText.String() {
		t.Errorf("kcat -C -f '%%k:%%s\\n' printed:\n%s\nwant:\n%s", got, wantText.String())
	}

	// Every partition, with partition, offset and headers.
	out := kcatOut(t, addr, nil, "-C", "-t", topic, "-e", "-o", "beginning", "-f", `%p %o %h %k:%s\n`)
	compatCheckRecords(t, "kcat -C", parseKcatRecords(t, out), want)

	// From the middle of a partition.
	out = kcatOut(t, addr, nil, "-C", "-t", topic, "-p", "1", "-e", "-o", "3", "-f", `%p %o %h %k:%s\n`)
	compatCheckRecords(t, "kcat -C -o 3", parseKcatRecords(t, out), compatRecordsFrom(want, 1, 3))
}

// testKcatAutoCreate produces to a topic nobody created: librdkafka's
// producer asks for it in Metadata with auto-creation allowed, and the
// agent creates it with its default of one partition.
func testKcatAutoCreate(t *testing.T, addr string) {
	topic := compatTopic(t, "auto")
	kcat(t, addr, []byte("a:1\nb:2\nc:3\n"), "-P", "-t", topic, "-K:")
	compatCheckPartitions(t, addr, topic, 1)
	got := kcatOut(t, addr, nil, "-C", "-t", topic, "-e", "-o", "beginning", "-f", `%p %o %k:%s\n`)
	if want := "0 0 a:1\n0 1 b:2\n0 2 c:3\n"; string(got) != want {
		t.Errorf("kcat -C printed:\n%s\nwant:\n%s", got, want)
	}
}

// testKcatCompression produces with kcat -z codec and reads the records
// back with franz-go, checking they were stored compressed with codec.
func testKcatCompression(t *testing.T, addr, name string, codec uint8) {
	topic := compatTopic(t, name)
	compatCreateTopic(t, addr, topic, 1)
	var in strings.Builder
	var want []compatRecord
	for i := range 20 {
		// Repetitive values, so the codec shrinks the batch and
		// librdkafka keeps it compressed.
		r := compatRecord{Offset: int64(i), Key: fmt.Appendf(nil, "k%d", i),
			Value: fmt.Appendf(nil, "%s-%d", strings.Repeat(name, 40), i)}
		fmt.Fprintf(&in, "%s:%s\n", r.Key, r.Value)
		want = append(want, r)
	}
	// -d msg: librdkafka says why it sends a batch uncompressed only in
	// this debug log; compatCheckCodec quotes it.
	_, clientLog := kcat(t, addr, []byte(in.String()), "-P", "-t", topic, "-p", "0", "-K:", "-z", name, "-d", "msg")
	recs := compatConsumeFranz(t, addr, topic, len(want))
	compatCheckRecords(t, "franz-go read of kcat -z "+name, compatFromFranz(recs), want)
	compatCheckCodec(t, recs, codec, clientLog)
	compatCheckEndOffsets(t, addr, topic, map[int32]int64{0: int64(len(want))})
}

// checkKcatMetadata checks that kcat sees the agent under the address the
// test dialled and topic with partitions partitions, each led by it.
func checkKcatMetadata(t testing.TB, md kcatMetadata, addr, topic string, partitions int) {
	t.Helper()
	if len(md.Brokers) != 1 || md.Brokers[0].Name != addr {
		t.Errorf("kcat -L brokers = %+v, want one broker named %s", md.Brokers, addr)
	}
	for _, tp := range md.Topics {
		if tp.Topic != topic {
			continue
		}
		if tp.Error != "" || len(tp.Partitions) != partitions {
			t.Fatalf("kcat -L topic %s: error %q, %d partitions, want %d", topic, tp.Error, len(tp.Partitions), partitions)
		}
		for i, part := range tp.Partitions {
			if part.Partition != int32(i) || len(md.Brokers) == 0 || part.Leader != md.Brokers[0].ID {
				t.Errorf("kcat -L topic %s partition %+v, want partition %d led by broker %+v", topic, part, i, md.Brokers)
			}
		}
		return
	}
	t.Fatalf("kcat -L does not list topic %s: %+v", topic, md.Topics)
}

// parseKcatRecords parses kcat -C output in the format '%p %o %h %k:%s\n'.
// Header values must not contain ',', keys no ':' and values no newline.
func parseKcatRecords(t testing.TB, out []byte) []compatRecord {
	t.Helper()
	var recs []compatRecord
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, " ", 4)
		if len(f) != 4 {
			t.Fatalf("kcat line %q: want '%%p %%o %%h %%k:%%s'", line)
		}
		part, err1 := strconv.ParseInt(f[0], 10, 32)
		off, err2 := strconv.ParseInt(f[1], 10, 64)
		key, value, ok := strings.Cut(f[3], ":")
		if err1 != nil || err2 != nil || !ok {
			t.Fatalf("kcat line %q: want '%%p %%o %%h %%k:%%s'", line)
		}
		r := compatRecord{Partition: int32(part), Offset: off, Key: []byte(key), Value: []byte(value)}
		for _, h := range strings.Split(f[2], ",") {
			k, v, _ := strings.Cut(h, "=")
			r.Headers = append(r.Headers, compatHeader{Key: k, Value: []byte(v)})
		}
		recs = append(recs, r)
	}
	return recs
}

// pythonMetadata is what the scripts' metadata command prints.
type pythonMetadata struct {
	Topic      string           `json:"topic"`
	Partitions []int32          `json:"partitions"`
	Leaders    map[string]int32 `json:"leaders"`
	// ClientAPIVersion is the broker release kafka-python inferred from
	// ApiVersions (it picks request versions by it).
	ClientAPIVersion []int `json:"client_api_version,omitempty"`
}

// checkPythonMetadata runs script's metadata command and checks that it
// lists topic with partitions partitions, each with a leader.
func checkPythonMetadata(t testing.TB, script, addr, topic string, partitions int32) {
	t.Helper()
	out, _ := compatRunPython(t, script, addr, topic, nil, "metadata")
	mds := compatJSONLines[pythonMetadata](t, out)
	if len(mds) != 1 {
		t.Fatalf("%s metadata printed %d lines, want 1", script, len(mds))
	}
	md := mds[0]
	if md.ClientAPIVersion != nil {
		t.Logf("%s inferred broker version %v", script, md.ClientAPIVersion)
	}
	var want []int32
	for p := range partitions {
		want = append(want, p)
		if l, ok := md.Leaders[strconv.Itoa(int(p))]; !ok || l < 0 {
			t.Errorf("%s metadata: partition %d has leader %d (present %v)", script, p, l, ok)
		}
	}
	if !slices.Equal(md.Partitions, want) {
		t.Errorf("%s metadata: topic %s partitions %v, want %v", script, topic, md.Partitions, want)
	}
}

// pythonProduce produces recs with script, checks the delivery reports and
// returns the script's stderr (the client library's log).
func pythonProduce(t testing.TB, script, addr, topic string, recs []compatRecord, args ...string) []byte {
	t.Helper()
	out, stderr := compatRunPython(t, script, addr, topic, compatEncodeRecords(t, recs), append([]string{"produce"}, args...)...)
	compatCheckDeliveries(t, script+" produce", compatJSONLines[compatDelivery](t, out), recs)
	return stderr
}

// pythonConsume reads count records from partitions of topic with script,
// starting at offset ("earliest" or a number).
func pythonConsume(t testing.TB, script, addr, topic, offset string, count int, partitions ...int32) []compatRecord {
	t.Helper()
	args := []string{"consume", "--offset", offset, "--count", strconv.Itoa(count)}
	for _, p := range partitions {
		args = append(args, "--partition", strconv.Itoa(int(p)))
	}
	out, _ := compatRunPython(t, script, addr, topic, nil, args...)
	return compatJSONLines[compatRecord](t, out)
}

func TestCompatKafkaPython(t *testing.T) {
	compatRequirePython(t, "kafka", "python3-kafka")
	t.Parallel()
	p := startAgent(t)
	const script = "kafka_python_client.py"

	t.Run("admin-create-topic", func(t *testing.T) {
		topic := compatTopic(t, "admin")
		compatRunPython(t, script, p.addr, topic, nil, "create-topic", "--partitions", "3")
		compatCheckPartitions(t, p.addr, topic, 3)
		checkPythonMetadata(t, script, p.addr, topic, 3)
	})

	t.Run("acks-all", func(t *testing.T) {
		topic := compatTopic(t, "acks-all")
		compatCreateTopic(t, p.addr, topic, 3)
		recs := compatSampleRecords(3, 5)
		pythonProduce(t, script, p.addr, topic, recs, "--acks", "all")
		compatCheckEndOffsets(t, p.addr, topic, compatEndOffsets(recs, 3))
		got := pythonConsume(t, script, p.addr, topic, "earliest", len(recs), 0, 1, 2)
		compatCheckRecords(t, "kafka-python consume", got, recs)
		got = pythonConsume(t, script, p.addr, topic, "2", 3, 1)
		compatCheckRecords(t, "kafka-python consume from offset 2", got, compatRecordsFrom(recs, 1, 2))
	})

	t.Run("gzip-auto-create", func(t *testing.T) {
		topic := compatTopic(t, "gzip")
		// Not created first: the producer's Metadata request creates it
		// with the agent's default of one partition.
		recs := compatSampleRecords(1, 10)
		clientLog := pythonProduce(t, script, p.addr, topic, recs, "--acks", "all", "--compression", "gzip")
		compatCheckPartitions(t, p.addr, topic, 1)
		got := pythonConsume(t, script, p.addr, topic, "earliest", len(recs), 0)
		compatCheckRecords(t, "kafka-python consume", got, recs)
		stored := compatConsumeFranz(t, p.addr, topic, len(recs))
		compatCheckRecords(t, "franz-go read of kafka-python gzip", compatFromFranz(stored), recs)
		compatCheckCodec(t, stored, compatCodecGzip, clientLog)
	})
}

func TestCompatConfluentKafka(t *testing.T) {
	compatRequirePython(t, "confluent_kafka", "python3-confluent-kafka")
	t.Parallel()
	p := startAgent(t)
	const script = "confluent_kafka_client.py"

	t.Run("admin-create-topic", func(t *testing.T) {
		topic := compatTopic(t, "admin")
		compatRunPython(t, script, p.addr, topic, nil, "create-topic", "--partitions", "2")
		compatCheckPartitions(t, p.addr, topic, 2)
		checkPythonMetadata(t, script, p.addr, topic, 2)
	})

	for _, c := range []struct {
		name  string
		codec uint8
	}{{"lz4", compatCodecLZ4}, {"zstd", compatCodecZstd}} {
		t.Run("idempotent-"+c.name, func(t *testing.T) {
			compatSkipLZ4WithoutCoordinator(t, p.addr, c.name)
			topic := compatTopic(t, c.name)
			compatCreateTopic(t, p.addr, topic, 2)
			recs := compatSampleRecords(2, 6)
			clientLog := pythonProduce(t, script, p.addr, topic, recs, "--idempotent", "--acks", "all", "--compression", c.name)
			compatCheckEndOffsets(t, p.addr, topic, compatEndOffsets(recs, 2))

			stored := compatConsumeFranz(t, p.addr, topic, len(recs))
			compatCheckRecords(t, "franz-go read of confluent-kafka "+c.name, compatFromFranz(stored), recs)
			compatCheckCodec(t, stored, c.codec, clientLog)
			compatCheckIdempotent(t, stored)

			got := pythonConsume(t, script, p.addr, topic, "earliest", len(recs), 0, 1)
			compatCheckRecords(t, "confluent-kafka consume", got, recs)
			got = pythonConsume(t, script, p.addr, topic, "3", 3, 0)
			compatCheckRecords(t, "confluent-kafka consume from offset 3", got, compatRecordsFrom(recs, 0, 3))
		})
	}
}

// saramaConfig is a modern, idempotent sarama configuration.
func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.ClientID = "strata-compat"
	cfg.Net.DialTimeout = 5 * time.Second
	cfg.Net.ReadTimeout = 10 * time.Second
	cfg.Net.WriteTimeout = 10 * time.Second
	cfg.Net.MaxOpenRequests = 1 // required by the idempotent producer
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.MaxWaitTime = 100 * time.Millisecond
	cfg.Admin.Timeout = 10 * time.Second
	cfg.Metadata.Retry.Backoff = 50 * time.Millisecond
	return cfg
}

func TestCompatSarama(t *testing.T) {
	t.Parallel()
	p := startAgent(t)
	cfg := saramaConfig()
	topic := compatTopic(t, "sarama")

	admin, err := sarama.NewClusterAdmin([]string{p.addr}, cfg)
	if err != nil {
		t.Fatalf("sarama admin: %v", err)
	}
	defer admin.Close()
	saramaCreateTopic(t, admin, topic, 2)

	recs := compatSampleRecords(2, 6)
	saramaProduce(t, p.addr, cfg, topic, recs)
	compatCheckEndOffsets(t, p.addr, topic, compatEndOffsets(recs, 2))
	got := saramaConsume(t, p.addr, cfg, topic, 0, sarama.OffsetOldest, 6)
	got = append(got, saramaConsume(t, p.addr, cfg, topic, 1, sarama.OffsetOldest, 6)...)
	compatCheckRecords(t, "sarama consume", got, recs)
	got = saramaConsume(t, p.addr, cfg, topic, 1, 4, 2)
	compatCheckRecords(t, "sarama consume from offset 4", got, compatRecordsFrom(recs, 1, 4))
	stored := compatConsumeFranz(t, p.addr, topic, len(recs))
	compatCheckIdempotent(t, stored)

	// Delete the topic the records are in, with the producer and
	// consumers gone.
	if err := admin.DeleteTopic(topic); err != nil {
		t.Fatalf("sarama DeleteTopic: %v", err)
	}
	checkFor(t, 10*time.Second, func() error {
		topics, err := admin.ListTopics()
		if err != nil {
			return err
		}
		if _, ok := topics[topic]; ok {
			return fmt.Errorf("topic %s still listed after DeleteTopic", topic)
		}
		return nil
	})
}

// saramaCreateTopic creates topic with ClusterAdmin.CreateTopic and checks
// that ListTopics and DescribeTopics show it with its partitions led.
func saramaCreateTopic(t testing.TB, admin sarama.ClusterAdmin, topic string, partitions int32) {
	t.Helper()
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("sarama CreateTopic: %v", err)
	}
	topics, err := admin.ListTopics()
	if err != nil {
		t.Fatalf("sarama ListTopics: %v", err)
	}
	if d, ok := topics[topic]; !ok || d.NumPartitions != partitions {
		t.Fatalf("sarama ListTopics: %s = %+v (listed %v), want %d partitions", topic, d, ok, partitions)
	}
	described, err := admin.DescribeTopics([]string{topic})
	if err != nil {
		t.Fatalf("sarama DescribeTopics: %v", err)
	}
	if len(described) != 1 || described[0].Err != sarama.ErrNoError || len(described[0].Partitions) != int(partitions) {
		t.Fatalf("sarama DescribeTopics(%s) = %+v, want one topic with %d partitions", topic, described, partitions)
	}
	for _, pm := range described[0].Partitions {
		if pm.Err != sarama.ErrNoError || pm.Leader < 0 {
			t.Errorf("sarama DescribeTopics: partition %d leader %d err %v", pm.ID, pm.Leader, pm.Err)
		}
	}
}

// saramaProduce sends recs with an idempotent SyncProducer, one at a time,
// and checks where each landed.
func saramaProduce(t testing.TB, addr string, cfg *sarama.Config, topic string, recs []compatRecord) {
	t.Helper()
	producer, err := sarama.NewSyncProducer([]string{addr}, cfg)
	if err != nil {
		t.Fatalf("sarama producer: %v", err)
	}
	defer producer.Close()
	var got []compatDelivery
	for _, r := range recs {
		msg := &sarama.ProducerMessage{Topic: topic, Partition: r.Partition, Timestamp: time.UnixMilli(r.Timestamp)}
		if r.Key != nil {
			msg.Key = sarama.ByteEncoder(r.Key)
		}
		if r.Value != nil {
			msg.Value = sarama.ByteEncoder(r.Value)
		}
		for _, h := range r.Headers {
			msg.Headers = append(msg.Headers, sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
		}
		part, off, err := producer.SendMessage(msg)
		if err != nil {
			t.Fatalf("sarama SendMessage %s: %v", r, err)
		}
		got = append(got, compatDelivery{Partition: part, Offset: off})
	}
	compatCheckDeliveries(t, "sarama SyncProducer", got, recs)
}

// saramaConsume reads n records of one partition from offset with a sarama
// partition consumer.
func saramaConsume(t testing.TB, addr string, cfg *sarama.Config, topic string, partition int32, offset int64, n int) []compatRecord {
	t.Helper()
	consumer, err := sarama.NewConsumer([]string{addr}, cfg)
	if err != nil {
		t.Fatalf("sarama consumer: %v", err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, partition, offset)
	if err != nil {
		t.Fatalf("sarama ConsumePartition(%s, %d, %d): %v", topic, partition, offset, err)
	}
	defer pc.Close()
	timeout := time.After(15 * time.Second)
	var recs []compatRecord
	for len(recs) < n {
		select {
		case m := <-pc.Messages():
			r := compatRecord{Partition: m.Partition, Offset: m.Offset, Timestamp: m.Timestamp.UnixMilli(), Key: m.Key, Value: m.Value}
			for _, h := range m.Headers {
				r.Headers = append(r.Headers, compatHeader{Key: string(h.Key), Value: h.Value})
			}
			recs = append(recs, r)
		case err := <-pc.Errors():
			t.Fatalf("sarama consume %s[%d]: %v", topic, partition, err)
		case <-timeout:
			t.Fatalf("sarama read %d of %d records from %s[%d]", len(recs), n, topic, partition)
		}
	}
	return recs
}

func TestCompatKafkaGo(t *testing.T) {
	t.Parallel()
	p := startAgent(t)
	ctx := testCtx(t, 30*time.Second)
	topic := compatTopic(t, "kafka-go")
	client := &kafka.Client{Addr: kafka.TCP(p.addr), Timeout: 10 * time.Second}

	created, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 2, ReplicationFactor: 1}},
	})
	if err != nil {
		t.Fatalf("kafka-go CreateTopics: %v", err)
	}
	if err := created.Errors[topic]; err != nil {
		t.Fatalf("kafka-go CreateTopics %s: %v", topic, err)
	}
	checkKafkaGoMetadata(t, ctx, client, p.addr, topic, 2)

	recs := kafkaGoRecords(compatSampleRecords(2, 6))
	kafkaGoProduce(t, ctx, p.addr, topic, recs)
	checkKafkaGoOffsets(t, ctx, client, topic, recs)

	var got []compatRecord
	for part := range int32(2) {
		got = append(got, kafkaGoConsume(t, ctx, p.addr, topic, part, kafka.FirstOffset, 6)...)
	}
	compatCheckRecords(t, "kafka-go Reader", got, kafkaGoReaderView(recs))
	got = kafkaGoConsume(t, ctx, p.addr, topic, 0, 3, 3)
	compatCheckRecords(t, "kafka-go Reader from offset 3", got, kafkaGoReaderView(compatRecordsFrom(recs, 0, 3)))

	stored := compatConsumeFranz(t, p.addr, topic, len(recs))
	compatCheckRecords(t, "franz-go read of kafka-go snappy", compatFromFranz(stored), recs)
	compatCheckCodec(t, stored, compatCodecSnappy, nil)
}

// kafkaGoRecords adapts sample records to what kafka-go can express: its
// Writer sends an empty key as a null key (franz-go reads it back as null),
// so the empty keys of the sample become null keys.
func kafkaGoRecords(recs []compatRecord) []compatRecord {
	for i := range recs {
		if recs[i].Key != nil && len(recs[i].Key) == 0 {
			recs[i].Key = nil
		}
	}
	return recs
}

// kafkaGoReaderView returns recs as kafka-go's Reader presents them: it
// returns an empty header value as nil (franz-go reads the same records back
// with the empty value intact, so the Writer and the agent keep it).
func kafkaGoReaderView(recs []compatRecord) []compatRecord {
	out := make([]compatRecord, len(recs))
	for i, r := range recs {
		r.Headers = slices.Clone(r.Headers)
		for j := range r.Headers {
			if len(r.Headers[j].Value) == 0 {
				r.Headers[j].Value = nil
			}
		}
		out[i] = r
	}
	return out
}

// checkKafkaGoMetadata checks kafka-go's Metadata view of topic: the
// partitions, each led by the agent at addr.
func checkKafkaGoMetadata(t testing.TB, ctx context.Context, client *kafka.Client, addr, topic string, partitions int) {
	t.Helper()
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		t.Fatalf("kafka-go Metadata: %v", err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Name != topic || md.Topics[0].Error != nil || len(md.Topics[0].Partitions) != partitions {
		t.Fatalf("kafka-go Metadata(%s) topics = %+v, want %s with %d partitions", topic, md.Topics, topic, partitions)
	}
	for _, part := range md.Topics[0].Partitions {
		leader := fmt.Sprintf("%s:%d", part.Leader.Host, part.Leader.Port)
		if part.Error != nil || leader != addr {
			t.Errorf("kafka-go Metadata: partition %d led by %s (err %v), want %s", part.ID, leader, part.Error, addr)
		}
	}
}

// kafkaGoProduce writes recs with a snappy, acks=all kafka.Writer, one
// partition at a time (kafka-go's Writer picks partitions only through its
// Balancer).
func kafkaGoProduce(t testing.TB, ctx context.Context, addr, topic string, recs []compatRecord) {
	t.Helper()
	var target atomic.Int32
	w := &kafka.Writer{
		Addr:         kafka.TCP(addr),
		Topic:        topic,
		RequiredAcks: kafka.RequireAll,
		Compression:  kafka.Snappy,
		BatchTimeout: 10 * time.Millisecond,
		Balancer: kafka.BalancerFunc(func(_ kafka.Message, _ ...int) int {
			return int(target.Load())
		}),
	}
	defer w.Close()
	byPartition := map[int32][]kafka.Message{}
	for _, r := range recs {
		m := kafka.Message{Key: r.Key, Value: r.Value, Time: time.UnixMilli(r.Timestamp)}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, kafka.Header{Key: h.Key, Value: h.Value})
		}
		byPartition[r.Partition] = append(byPartition[r.Partition], m)
	}
	for part := range int32(len(byPartition)) {
		target.Store(part)
		if err := w.WriteMessages(ctx, byPartition[part]...); err != nil {
			t.Fatalf("kafka-go WriteMessages to partition %d: %v", part, err)
		}
	}
}

// checkKafkaGoOffsets checks kafka-go's ListOffsets: the first and last
// offsets of each partition, and the offset found by a record's timestamp.
func checkKafkaGoOffsets(t testing.TB, ctx context.Context, client *kafka.Client, topic string, recs []compatRecord) {
	t.Helper()
	end := compatEndOffsets(recs, 2)
	probe := compatRecordsFrom(recs, 1, 2)[0] // the first record of partition 1 at offset >= 2
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		topic: {kafka.FirstOffsetOf(0), kafka.LastOffsetOf(0), kafka.FirstOffsetOf(1), kafka.LastOffsetOf(1),
			kafka.TimeOffsetOf(1, time.UnixMilli(probe.Timestamp))},
	}})
	if err != nil {
		t.Fatalf("kafka-go ListOffsets: %v", err)
	}
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			t.Errorf("kafka-go ListOffsets %s[%d]: %v", topic, po.Partition, po.Error)
			continue
		}
		if po.FirstOffset != 0 || po.LastOffset != end[int32(po.Partition)] {
			t.Errorf("kafka-go ListOffsets %s[%d]: first %d last %d, want 0 and %d",
				topic, po.Partition, po.FirstOffset, po.LastOffset, end[int32(po.Partition)])
		}
		if po.Partition == 1 {
			if _, ok := po.Offsets[probe.Offset]; !ok {
				t.Errorf("kafka-go ListOffsets %s[1] by timestamp %d: offsets %v, want %d",
					topic, probe.Timestamp, po.Offsets, probe.Offset)
			}
		}
	}
	if n := len(resp.Topics[topic]); n != 2 {
		t.Errorf("kafka-go ListOffsets answered for %d partitions of %s, want 2", n, topic)
	}
}

// kafkaGoConsume reads n records of one partition from offset with a
// kafka.Reader that has no GroupID.
func kafkaGoConsume(t testing.TB, ctx context.Context, addr, topic string, partition int32, offset int64, n int) []compatRecord {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   []string{addr},
		Topic:     topic,
		Partition: int(partition),
		MinBytes:  1,
		MaxBytes:  1 << 20,
		MaxWait:   100 * time.Millisecond,
	})
	defer r.Close()
	if err := r.SetOffset(offset); err != nil {
		t.Fatalf("kafka-go Reader.SetOffset(%d): %v", offset, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var recs []compatRecord
	for len(recs) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("kafka-go Reader read %d of %d records from %s[%d]: %v", len(recs), n, topic, partition, err)
		}
		c := compatRecord{Partition: int32(m.Partition), Offset: m.Offset, Timestamp: m.Time.UnixMilli(), Key: m.Key, Value: m.Value}
		for _, h := range m.Headers {
			c.Headers = append(c.Headers, compatHeader{Key: h.Key, Value: h.Value})
		}
		recs = append(recs, c)
	}
	return recs
}
