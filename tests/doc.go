// Package tests holds Strata's cross-package tests: real `strata agent`
// processes on loopback ports driven by real Kafka clients (franz-go,
// sarama, kafka-go, kcat, kafka-python, confluent-kafka), restarts and
// crashes, and malformed input on raw connections.
//
// The tests use the binary named by $STRATA_BIN (make test builds it), or
// build one into a temporary directory.
package tests
