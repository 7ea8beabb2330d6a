#!/usr/bin/python3
"""kafka-python (Debian python3-kafka 2.0.2) driver for the compat tests.

See compat_common.py for the command line and the JSON record format.
``consume`` runs without a group_id: partitions are assigned explicitly,
so no group coordinator is involved. ``group-consume`` is a KafkaConsumer
with a group_id: it finds the coordinator, joins, syncs, heartbeats,
fetches the group's committed offsets, commits and leaves.

api_version is left to kafka-python's auto-detection on purpose: it sends
ApiVersions and infers the broker release from the versions advertised, and
the tests check that this probe works against Strata.
"""

import logging
import sys

import compat_common as cc

DESCRIPTION = "kafka-python driver for the Strata compat tests"

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

# kafka-python logs connection problems at WARNING/ERROR; they go to stderr,
# which the Go test shows on failure.
logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                    format="kafka-python %(levelname)s %(name)s: %(message)s")


def ms(seconds):
    return max(1, int(seconds * 1000))


def metadata(args, dog):
    dog.step = "fetching metadata"
    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, group_id=None)
    partitions = consumer.partitions_for_topic(args.topic)
    if partitions is None:
        raise cc.Failure("topic %s not in metadata" % args.topic)
    cluster = consumer._client.cluster
    leaders = {}
    for p in sorted(partitions):
        leader = cluster.leader_for_partition(TopicPartition(args.topic, p))
        leaders[str(p)] = -1 if leader is None else leader
    cc.emit({"topic": args.topic, "partitions": sorted(partitions), "leaders": leaders,
             # The broker release kafka-python inferred from ApiVersions.
             "client_api_version": list(consumer.config["api_version"])})


def create_topic(args, dog):
    dog.step = "creating topic %s with KafkaAdminClient" % args.topic
    admin = KafkaAdminClient(bootstrap_servers=args.bootstrap,
                             request_timeout_ms=ms(dog.remaining()))
    resp = admin.create_topics([NewTopic(args.topic, args.partitions, 1)],
                               timeout_ms=ms(dog.remaining() / 2))
    for err in resp.topic_errors:
        topic, code = err[0], err[1]
        if code != 0:
            raise cc.Failure("create %s: error code %d (%s)" % (topic, code, err[2:]))
    cc.emit({"topic": args.topic, "created": True})


def produce(args, dog):
    if args.idempotent:
        raise cc.Failure("kafka-python 2.0.2 has no idempotent producer")
    records = cc.read_records()
    dog.step = "connecting the producer"
    producer = KafkaProducer(
        bootstrap_servers=args.bootstrap,
        acks=args.acks if args.acks == "all" else int(args.acks),
        compression_type=None if args.compression == "none" else args.compression,
        max_block_ms=ms(dog.remaining()),
        request_timeout_ms=ms(dog.remaining() / 2),
        linger_ms=5,
    )
    dog.step = "producing %d records" % len(records)
    futures = [
        producer.send(args.topic, value=r["value"], key=r["key"],
                      headers=r["headers"], partition=r["partition"],
                      timestamp_ms=r["timestamp"])
        for r in records
    ]
    producer.flush(timeout=dog.remaining())
    dog.step = "waiting for delivery reports"
    for i, f in enumerate(futures):
        try:
            md = f.get(timeout=dog.remaining())
        except Exception as e:
            raise cc.Failure("record %d not delivered: %s: %s" % (i, type(e).__name__, e))
        cc.emit({"partition": md.partition, "offset": md.offset})


def consume(args, dog):
    if args.isolation is not None:
        # kafka-python 2.0 has no isolation.level; it reads uncommitted.
        raise cc.Failure("kafka-python cannot choose an isolation level")
    dog.step = "connecting the consumer"
    consumer = KafkaConsumer(
        bootstrap_servers=args.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Stop iterating when nothing arrives for this long; the count
        # check below turns that into a failure.
        consumer_timeout_ms=ms(dog.remaining() - 1),
        fetch_max_wait_ms=100,
    )
    tps = [TopicPartition(args.topic, p) for p in args.partition]
    consumer.assign(tps)
    if args.offset != "earliest":
        for tp in tps:
            consumer.seek(tp, int(args.offset))
    dog.step = "consuming %d records" % args.count
    n = 0
    for msg in consumer:
        cc.emit(cc.record_json(msg.partition, msg.offset, msg.timestamp,
                               msg.key, msg.value, msg.headers))
        n += 1
        if n == args.count:
            return
    raise cc.Failure("read %d of %d records before %s went quiet" % (n, args.count, args.topic))


def group_consume(args, dog):
    dog.step = "joining group %s" % args.group
    consumer = KafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=ms(dog.remaining() - 1),
        fetch_max_wait_ms=100,
        # Fetch a record at a time, so that what the consumer has read
        # (and commits) is exactly what it printed.
        max_poll_records=1,
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
    )
    dog.step = "consuming %d records in group %s" % (args.count, args.group)
    n = 0
    for msg in consumer:
        cc.emit(cc.record_json(msg.partition, msg.offset, msg.timestamp,
                               msg.key, msg.value, msg.headers))
        n += 1
        if n == args.count:
            break
    if n < args.count:
        raise cc.Failure("read %d of %d records in group %s" % (n, args.count, args.group))
    dog.step = "committing"
    consumer.commit()
    dog.step = "leaving group %s" % args.group
    consumer.close(autocommit=False)


if __name__ == "__main__":
    cc.run(DESCRIPTION, {
        "metadata": metadata,
        "create-topic": create_topic,
        "produce": produce,
        "consume": consume,
        "group-consume": group_consume,
    })
