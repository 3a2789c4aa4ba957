#!/usr/bin/python3
"""kafka-python 2.0.2 pinned to an old protocol level (the message formats Kafka 4 removed).

    /usr/bin/python3 test/e2e/python/old_client.py --bootstrap 127.0.0.1:9092 --topic t \
        --api-version 0.9|0.10 --compression none|gzip|snappy|lz4 --count 60 --group g

The topic must exist (CreateTopics is newer than 0.9). Produces COUNT keyed records (message
format v0 at 0.9, v1 at 0.10; compressed sets are wrapper messages), then consumes them in a
consumer group from the earliest offset, commits, and checks keys, values, per-partition order and
the committed offsets. Prints ONE JSON line {"ok":true,...} and exits 0, else {"ok":false,...}, 1.
"""
import argparse
import json
import signal
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--api-version", required=True)
    ap.add_argument("--compression", default="none")
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--group", required=True)
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    signal.signal(signal.SIGALRM, lambda *_: fail("watchdog: run took too long"))
    signal.alarm(int(a.timeout * 3))
    api = tuple(int(x) for x in a.api_version.split("."))

    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    producer = KafkaProducer(
        bootstrap_servers=a.bootstrap,
        api_version=api,
        compression_type=None if a.compression == "none" else a.compression,
        linger_ms=20,
        acks="all",
    )
    futures = [producer.send(a.topic, key=b"k-%d" % i, value=b"v-%d-" % i + b"y" * 200) for i in range(a.count)]
    producer.flush(timeout=a.timeout)
    acked = [f.get(timeout=a.timeout) for f in futures]
    producer.close(timeout=5)

    consumer = KafkaConsumer(
        a.topic,
        bootstrap_servers=a.bootstrap,
        api_version=api,
        group_id=a.group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=int(a.timeout * 1000),
    )
    got = []
    deadline = time.time() + a.timeout
    while len(got) < a.count and time.time() < deadline:
        for recs in consumer.poll(timeout_ms=500).values():
            got.extend(recs)
    consumer.commit()
    partitions = sorted({r.partition for r in got})
    committed = {p: consumer.committed(TopicPartition(a.topic, p)) for p in partitions}
    consumer.close()

    if len(got) != a.count:
        fail("consumed %d of %d" % (len(got), a.count))
    by_key = {r.key: r for r in got}
    for i in range(a.count):
        r = by_key.get(b"k-%d" % i)
        if r is None or r.value != b"v-%d-" % i + b"y" * 200:
            fail("record %d missing or wrong" % i)
    offsets_by_part = {}
    for md in acked:
        offsets_by_part.setdefault(md.partition, []).append(md.offset)
    for p in partitions:
        seen = [r.offset for r in got if r.partition == p]
        if seen != sorted(seen) or seen != sorted(offsets_by_part.get(p, [])):
            fail("partition %d offsets %s differ from the acks %s" % (p, seen[:5], offsets_by_part.get(p, [])[:5]))
        if committed[p] != seen[-1] + 1:
            fail("partition %d committed %s, expected %d" % (p, committed[p], seen[-1] + 1))
    print(json.dumps({"ok": True, "produced": len(acked), "consumed": len(got), "partitions": partitions,
                      "committed": {str(k): v for k, v in committed.items()}}))
    sys.exit(0)


def fail(msg):
    print(json.dumps({"ok": False, "error": msg}))
    sys.stdout.flush()
    sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - one JSON line for any failure
        fail("%s: %s" % (type(e).__name__, e))
