"""Shared plumbing for the client-compatibility scripts in this directory.

The Go tests in tests/compat_test.go run each script as
``/usr/bin/python3 tests/clients/<script>.py --bootstrap HOST:PORT --topic T
<command> ...`` and compare what it prints. Records cross the process
boundary as JSON lines with bytes in base64, so binary keys and values and
the difference between a null and an empty key survive exactly:

    {"partition": 0, "offset": 3, "timestamp": 1700000000000,
     "key": "azA=" | null, "value": "djA=" | null,
     "headers": [{"key": "h", "value": "aHY=" | null}]}

``produce`` reads such lines on stdin (offset is ignored; partition and
timestamp are what the producer should use) and prints one delivery report
per record, in input order: {"partition": P, "offset": O}.
``consume`` prints the records it read, one line each (--isolation picks
read_committed or read_uncommitted where the client can).
``txn-produce`` (confluent-kafka only) produces the records on stdin in one
transaction of --transactional-id, commits it (or aborts it, --abort) and
prints {"transactional_id": ..., "records": N, "committed": bool}.
``group-consume`` joins consumer group --group subscribed to the topic
(starting from the earliest offset where the group has no committed one),
prints the first --count records it reads, commits the offsets after them
synchronously and leaves the group.

Every script arms a watchdog: after --timeout seconds it prints what it was
doing to stderr and exits with status 3, so a broker that never answers
cannot hang the test run. Any other failure exits non-zero with a message
on stderr; stdout carries only results.
"""

import argparse
import base64
import json
import os
import sys
import threading
import time

EXIT_FAILED = 1
EXIT_TIMEOUT = 3


class Failure(Exception):
    """A check that failed; main() prints it and exits non-zero."""


def b64(data):
    """Encodes bytes (or None) for the JSON wire format."""
    if data is None:
        return None
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    """Decodes a JSON wire field back to bytes (or None)."""
    if text is None:
        return None
    return base64.b64decode(text)


def read_records():
    """Reads the records to produce from stdin, one JSON object a line."""
    records = []
    for n, line in enumerate(sys.stdin, 1):
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise Failure("stdin line %d is not JSON: %s" % (n, e))
        records.append({
            "partition": obj.get("partition"),
            "timestamp": obj.get("timestamp") or None,
            "key": unb64(obj.get("key")),
            "value": unb64(obj.get("value")),
            "headers": [(h["key"], unb64(h.get("value"))) for h in obj.get("headers") or []],
        })
    return records


def emit(obj):
    """Prints one result line and flushes, so partial output survives a kill."""
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def record_json(partition, offset, timestamp, key, value, headers):
    """Builds the JSON form of a consumed record."""
    return {
        "partition": partition,
        "offset": offset,
        "timestamp": timestamp,
        "key": b64(key),
        "value": b64(value),
        "headers": [{"key": k, "value": b64(v)} for k, v in headers or []],
    }


class Watchdog:
    """Ends the process if the script runs longer than its budget.

    It runs on a daemon thread and calls os._exit, which works even while
    the main thread is blocked inside a C extension (librdkafka).
    """

    def __init__(self, seconds):
        self.deadline = time.monotonic() + seconds
        self.step = "starting"
        t = threading.Thread(target=self._run, args=(seconds,), daemon=True)
        t.start()

    def _run(self, seconds):
        time.sleep(seconds)
        sys.stderr.write("timed out after %ss while %s\n" % (seconds, self.step))
        sys.stderr.flush()
        os._exit(EXIT_TIMEOUT)

    def remaining(self):
        """Seconds left before the watchdog fires (never negative)."""
        return max(0.0, self.deadline - time.monotonic())


def parser(description):
    """The arguments every script takes; callers add their commands."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--bootstrap", required=True, help="broker host:port")
    p.add_argument("--topic", required=True)
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds before the script gives up (exit 3)")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("metadata", help="print the topic's partitions as JSON")

    create = sub.add_parser("create-topic", help="create the topic with the client's admin API")
    create.add_argument("--partitions", type=int, required=True)

    produce = sub.add_parser("produce", help="produce the JSON records read on stdin")
    produce.add_argument("--acks", default="all")
    produce.add_argument("--compression", default="none")
    produce.add_argument("--idempotent", action="store_true")

    consume = sub.add_parser("consume", help="print COUNT records read from PARTITION")
    consume.add_argument("--partition", type=int, action="append", required=True,
                         help="partition to read; repeat for several")
    consume.add_argument("--offset", default="earliest",
                         help="'earliest' or an offset to start every partition at")
    consume.add_argument("--count", type=int, required=True,
                         help="records to read before exiting")
    consume.add_argument("--isolation", choices=["read_committed", "read_uncommitted"],
                         help="the consumer's isolation.level (default: the client's)")

    txn = sub.add_parser("txn-produce",
                         help="produce the JSON records read on stdin in one transaction")
    txn.add_argument("--transactional-id", required=True)
    txn.add_argument("--abort", action="store_true",
                     help="abort the transaction instead of committing it")

    group = sub.add_parser("group-consume",
                           help="read COUNT records as a member of GROUP, commit, leave")
    group.add_argument("--group", required=True)
    group.add_argument("--count", type=int, required=True,
                       help="records to read before committing and leaving")
    return p


def run(description, commands):
    """Parses the arguments, arms the watchdog and runs the command.

    commands maps a command name to fn(args, watchdog). Exits 0 on success,
    1 with a message on failure, 3 on timeout.
    """
    args = parser(description).parse_args()
    dog = Watchdog(args.timeout)
    name = "%s %s" % (os.path.basename(sys.argv[0]), args.command)
    code = 0
    try:
        commands[args.command](args, dog)
    except Failure as e:
        sys.stderr.write("%s: %s\n" % (name, e))
        code = EXIT_FAILED
    except Exception as e:  # a client library's exception: report it plainly
        sys.stderr.write("%s: %s: %s\n" % (name, type(e).__name__, e))
        code = EXIT_FAILED
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit skips interpreter teardown, where client libraries' background
    # threads (librdkafka's, kafka-python's I/O thread) could delay the exit.
    os._exit(code)
