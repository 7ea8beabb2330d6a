#!/usr/bin/python3
"""confluent-kafka (Debian python3-confluent-kafka on librdkafka) driver for
the compat tests.

See compat_common.py for the command line and the JSON record format.

librdkafka refuses to create a consumer without group.id, so ``consume``
sets a dummy one but never joins a group: it assign()s partitions with
explicit start offsets and never commits (enable.auto.commit=false), so
fetching needs no group coordinator. ``group-consume`` subscribe()s as a
real group member and commits synchronously before it leaves.
"""

import sys

import compat_common as cc

DESCRIPTION = "confluent-kafka driver for the Strata compat tests"

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic


def ms(seconds):
    return max(1, int(seconds * 1000))


class Errors:
    """Collects librdkafka's asynchronous errors (error_cb) so a failure
    message can say what the client saw."""

    def __init__(self):
        self.seen = []

    def __call__(self, err):
        self.seen.append(str(err))
        sys.stderr.write("librdkafka error: %s\n" % err)

    def describe(self):
        return "; client errors: %s" % self.seen if self.seen else ""


def metadata(args, dog):
    dog.step = "fetching metadata"
    errs = Errors()
    admin = AdminClient({"bootstrap.servers": args.bootstrap, "error_cb": errs})
    md = admin.list_topics(topic=args.topic, timeout=dog.remaining())
    t = md.topics.get(args.topic)
    if t is None or t.error is not None:
        raise cc.Failure("topic %s not in metadata: %s%s" % (
            args.topic, None if t is None else t.error, errs.describe()))
    cc.emit({
        "topic": args.topic,
        "partitions": sorted(t.partitions),
        "leaders": {str(p): pm.leader for p, pm in t.partitions.items()},
    })


def create_topic(args, dog):
    dog.step = "creating topic %s with AdminClient" % args.topic
    errs = Errors()
    admin = AdminClient({"bootstrap.servers": args.bootstrap, "error_cb": errs})
    futures = admin.create_topics([NewTopic(args.topic, args.partitions, 1)],
                                  operation_timeout=dog.remaining() / 2,
                                  request_timeout=dog.remaining() / 2)
    try:
        futures[args.topic].result(timeout=dog.remaining())
    except Exception as e:
        raise cc.Failure("create %s: %s%s" % (args.topic, e, errs.describe()))
    cc.emit({"topic": args.topic, "created": True})


def produce(args, dog):
    records = cc.read_records()
    errs = Errors()
    conf = {
        "bootstrap.servers": args.bootstrap,
        "acks": args.acks,
        "enable.idempotence": args.idempotent,
        "compression.type": args.compression,
        "linger.ms": 5,
        "message.timeout.ms": ms(dog.remaining() - 1),
        "error_cb": errs,
    }
    if args.compression != "none":
        # librdkafka says why it sends a batch uncompressed only in its
        # "msg" debug log (on stderr); the Go test quotes that line.
        conf["debug"] = "msg"
    producer = Producer(conf)
    reports = [None] * len(records)

    def on_delivery(i):
        def cb(err, msg):
            reports[i] = (err, msg.partition(), msg.offset())
        return cb

    dog.step = "producing %d records" % len(records)
    for i, r in enumerate(records):
        kwargs = {"key": r["key"], "value": r["value"], "headers": r["headers"],
                  "on_delivery": on_delivery(i)}
        if r["partition"] is not None:
            kwargs["partition"] = r["partition"]
        if r["timestamp"] is not None:
            kwargs["timestamp"] = r["timestamp"]
        producer.produce(args.topic, **kwargs)
        producer.poll(0)
    dog.step = "flushing %d records" % len(records)
    left = producer.flush(dog.remaining())
    if left:
        raise cc.Failure("%d records still undelivered after flush%s" % (left, errs.describe()))
    for i, rep in enumerate(reports):
        if rep is None:
            raise cc.Failure("record %d got no delivery report%s" % (i, errs.describe()))
        err, partition, offset = rep
        if err is not None:
            raise cc.Failure("record %d not delivered: %s%s" % (i, err, errs.describe()))
        cc.emit({"partition": partition, "offset": offset})


def consume(args, dog):
    errs = Errors()
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": "strata-compat-unused",  # required by librdkafka; never joined
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 100,
        "isolation.level": args.isolation or "read_committed",  # librdkafka's default
        "error_cb": errs,
    })
    start = OFFSET_BEGINNING if args.offset == "earliest" else int(args.offset)
    consumer.assign([TopicPartition(args.topic, p, start) for p in args.partition])
    dog.step = "consuming %d records" % args.count
    n = 0
    while n < args.count:
        if dog.remaining() < 1:
            raise cc.Failure("read %d of %d records%s" % (n, args.count, errs.describe()))
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error() is not None:
            if msg.error().code() == KafkaError._PARTITION_EOF:
                continue
            raise cc.Failure("consume: %s" % msg.error())
        _, ts = msg.timestamp()
        cc.emit(cc.record_json(msg.partition(), msg.offset(), ts,
                               msg.key(), msg.value(), msg.headers()))
        n += 1


def txn_produce(args, dog):
    records = cc.read_records()
    errs = Errors()
    producer = Producer({
        "bootstrap.servers": args.bootstrap,
        "transactional.id": args.transactional_id,
        "linger.ms": 5,
        "error_cb": errs,
    })
    dog.step = "initializing transactions as %s" % args.transactional_id
    producer.init_transactions(dog.remaining())
    producer.begin_transaction()
    failed = []

    def on_delivery(err, msg):
        if err is not None:
            failed.append(str(err))

    dog.step = "producing %d records in a transaction" % len(records)
    for r in records:
        kwargs = {"key": r["key"], "value": r["value"], "headers": r["headers"],
                  "on_delivery": on_delivery}
        if r["partition"] is not None:
            kwargs["partition"] = r["partition"]
        producer.produce(args.topic, **kwargs)
        producer.poll(0)
    if args.abort:
        # abort_transaction drops what is still queued; flush first so the
        # aborted records reach the log, where readers must skip them.
        dog.step = "flushing before the abort"
        if producer.flush(dog.remaining()):
            raise cc.Failure("records still undelivered before the abort%s" % errs.describe())
        dog.step = "aborting the transaction"
        producer.abort_transaction(dog.remaining())
    else:
        dog.step = "committing the transaction"
        producer.commit_transaction(dog.remaining())  # flushes first
        if failed:
            raise cc.Failure("committed, yet deliveries failed: %s%s" % (failed, errs.describe()))
    cc.emit({"transactional_id": args.transactional_id, "records": len(records),
             "committed": not args.abort})


def group_consume(args, dog):
    errs = Errors()
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 100,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 1000,
        "error_cb": errs,
    })
    consumer.subscribe([args.topic])
    dog.step = "consuming %d records in group %s" % (args.count, args.group)
    n = 0
    while n < args.count:
        if dog.remaining() < 1:
            raise cc.Failure("read %d of %d records in group %s%s" % (n, args.count, args.group, errs.describe()))
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error() is not None:
            if msg.error().code() == KafkaError._PARTITION_EOF:
                continue
            raise cc.Failure("consume: %s" % msg.error())
        _, ts = msg.timestamp()
        cc.emit(cc.record_json(msg.partition(), msg.offset(), ts,
                               msg.key(), msg.value(), msg.headers()))
        # Commit exactly what was printed: this record's next offset.
        consumer.commit(offsets=[TopicPartition(args.topic, msg.partition(), msg.offset() + 1)],
                        asynchronous=False)
        n += 1
    dog.step = "leaving group %s" % args.group
    consumer.close()


if __name__ == "__main__":
    cc.run(DESCRIPTION, {
        "metadata": metadata,
        "create-topic": create_topic,
        "produce": produce,
        "consume": consume,
        "group-consume": group_consume,
        "txn-produce": txn_produce,
    })
