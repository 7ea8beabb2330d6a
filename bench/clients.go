package bench

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Producer settings used by every producing scenario. They favour
// throughput: full 1 MiB batches, a deep buffer so the sending goroutine
// never waits on the network, and (without idempotence) five requests in
// flight per broker, the same as the idempotent producer allows.
const (
	producerBatchMaxBytes      = 1 << 20
	producerMaxBufferedRecords = 100_000
	producerMaxBufferedBytes   = 256 << 20
	producerMaxInflight        = 5
	producerPartitioner        = "uniform-bytes(64KiB,adaptive)"
)

// Consumer settings of the consume scenario: large fetches so a fetch
// round trip carries many batches of every partition.
const (
	consumerFetchMaxBytes          = 64 << 20
	consumerFetchMaxPartitionBytes = 8 << 20
)

const clientID = "strata-bench"

func parseAcks(s string) (kgo.Acks, error) {
	switch s {
	case "all", "-1":
		return kgo.AllISRAcks(), nil
	case "1":
		return kgo.LeaderAck(), nil
	case "0":
		return kgo.NoAck(), nil
	}
	return kgo.Acks{}, fmt.Errorf("%w: acks %q (want all, 1 or 0)", ErrInvalidConfig, s)
}

// acksName is the canonical spelling of c.Acks for output.
func acksName(s string) string {
	if s == "-1" {
		return "all"
	}
	return s
}

// compressible reports whether payloads should be text-like: they are
// whenever a compression codec is chosen.
func (c Config) compressible() bool { return c.Compression != "none" }

func parseCompression(s string) (kgo.CompressionCodec, error) {
	switch s {
	case "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("%w: compression %q (want none, gzip, snappy, lz4 or zstd)", ErrInvalidConfig, s)
}

// idempotent reports whether the producer runs idempotently: franz-go
// requires acks=all for that.
func (c Config) idempotent() bool { return acksName(c.Acks) == "all" }

// baseOpts are the options every client shares.
func (c Config) baseOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(c.BootstrapServers...),
		kgo.ClientID(clientID),
	}
}

// producerOpts returns the client options of a producer writing to topic.
// A nil partitioner keeps franz-go's default uniform-bytes partitioner.
// c must be valid.
func (c Config) producerOpts(topic string, partitioner kgo.Partitioner) []kgo.Opt {
	acks, _ := parseAcks(c.Acks)
	codec, _ := parseCompression(c.Compression)
	opts := append(c.baseOpts(),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(acks),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(c.Linger),
		kgo.ProducerBatchMaxBytes(producerBatchMaxBytes),
		kgo.MaxBufferedRecords(producerMaxBufferedRecords),
		kgo.MaxBufferedBytes(producerMaxBufferedBytes),
	)
	if !c.idempotent() {
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(producerMaxInflight))
	}
	if partitioner != nil {
		opts = append(opts, kgo.RecordPartitioner(partitioner))
	}
	return opts
}

// producerSettings describes producerOpts for the report header.
func (c Config) producerSettings() ProducerSettings {
	return ProducerSettings{
		BatchMaxBytes:      producerBatchMaxBytes,
		MaxBufferedRecords: producerMaxBufferedRecords,
		MaxBufferedBytes:   producerMaxBufferedBytes,
		Linger:             c.Linger,
		Idempotent:         c.idempotent(),
		MaxInflight:        producerMaxInflight,
		Partitioner:        producerPartitioner,
	}
}

// consumerSettings describes the consumers for the report header.
func (c Config) consumerSettings() ConsumerSettings {
	return ConsumerSettings{
		FetchMaxBytes:          consumerFetchMaxBytes,
		FetchMaxPartitionBytes: consumerFetchMaxPartitionBytes,
		E2EFetchMaxWait:        c.FetchMaxWait,
	}
}
