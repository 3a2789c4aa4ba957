#!/usr/bin/python3
"""Compatibility check with the Python Kafka clients Debian ships.

    /usr/bin/python3 test/e2e/python/produce_consume.py --bootstrap 127.0.0.1:9092 \
        --topic t1 --client kafka-python|confluent --compression none|gzip|snappy|lz4|zstd --count 100

Creates the topic (unless --no-create; "already exists" is fine), produces COUNT keyed records with
headers, then reads every partition back from the beginning with a manual assignment (no consumer
group) and checks count, per-partition order, offsets (as the producer's acks reported them),
keys, values and headers. Prints ONE JSON line, e.g. {"ok":true,"produced":100,"consumed":100,...},
and exits 0; on any mismatch or error prints {"ok":false,...} and exits 1.

Every wait is bounded: a TCP probe fails in 3 s when nothing listens, each phase has --timeout
seconds (default 30), and a SIGALRM watchdog ends the whole run.

Run it with Debian's /usr/bin/python3 (python3-kafka, python3-confluent-kafka and the codec
modules are Debian packages installed by scripts/setup-test-clients.sh), not a pyenv python.
"""
import argparse
import json
import signal
import socket
import sys
import time

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


class CheckError(Exception):
    pass


def make_records(count, value_size):
    """The records to produce: index i -> (key, value, headers)."""
    out = []
    pad = b"x" * value_size
    for i in range(count):
        key = b"key-%d" % i
        value = b"value-%d-" % i + pad
        headers = [("idx", str(i).encode()), ("origin", b"fjord-e2e"), ("bin", bytes([0, 255, i % 256]))]
        out.append((key, value, headers))
    return out


def probe(bootstrap, timeout=3.0):
    first = bootstrap.split(",")[0]
    host, _, port = first.rpartition(":")
    host = host.strip("[]")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as e:
        raise CheckError("cannot connect to %s: %s" % (first, e))


# --------------------------------------------------------------------------- kafka-python


def run_kafka_python(args, records):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    common = dict(
        bootstrap_servers=args.bootstrap.split(","),
        client_id="fjord-e2e-kafka-python",
        request_timeout_ms=int(args.timeout * 1000),
        api_version_auto_timeout_ms=5000,
        reconnect_backoff_max_ms=1000,
    )
    if args.api_version:
        common["api_version"] = tuple(int(x) for x in args.api_version.split("."))

    if not args.no_create:
        admin = KafkaAdminClient(**common)
        try:
            admin.create_topics(
                [NewTopic(name=args.topic, num_partitions=args.partitions, replication_factor=1)],
                timeout_ms=int(args.timeout * 1000),
            )
        except TopicAlreadyExistsError:
            pass
        finally:
            admin.close()

    producer = KafkaProducer(
        compression_type=None if args.compression == "none" else args.compression,
        acks="all",
        linger_ms=5,
        max_block_ms=int(args.timeout * 1000),
        retries=3,
        **common,
    )
    futures = [producer.send(args.topic, key=k, value=v, headers=h) for (k, v, h) in records]
    producer.flush(timeout=args.timeout)
    acks = []
    for f in futures:
        md = f.get(timeout=args.timeout)
        acks.append((md.partition, md.offset))
    producer.close(timeout=5)

    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, auto_offset_reset="earliest", **common)
    try:
        deadline = time.monotonic() + args.timeout
        parts = None
        while not parts:
            parts = consumer.partitions_for_topic(args.topic)
            if parts:
                break
            if time.monotonic() > deadline:
                raise CheckError("no metadata for topic %s within %ss" % (args.topic, args.timeout))
            time.sleep(0.2)
        tps = [TopicPartition(args.topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        got = []
        deadline = time.monotonic() + args.timeout
        while len(got) < len(records) and time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=500)
            for tp, msgs in batch.items():
                for m in msgs:
                    got.append((m.partition, m.offset, m.key, m.value, [(k, bytes(v)) for k, v in m.headers]))
        # a short extra poll catches records beyond the expected count (duplicates)
        for msgs in consumer.poll(timeout_ms=300).values():
            for m in msgs:
                got.append((m.partition, m.offset, m.key, m.value, [(k, bytes(v)) for k, v in m.headers]))
    finally:
        consumer.close()
    return acks, got


# --------------------------------------------------------------------------- confluent-kafka


def run_confluent(args, records):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    common = {
        "bootstrap.servers": args.bootstrap,
        "client.id": "fjord-e2e-confluent",
        "socket.connection.setup.timeout.ms": 5000,
        "reconnect.backoff.max.ms": 1000,
    }
    if args.debug:
        common["debug"] = args.debug

    if not args.no_create:
        admin = AdminClient(common)
        fs = admin.create_topics(
            [NewTopic(args.topic, num_partitions=args.partitions, replication_factor=1)],
            operation_timeout=args.timeout,
            request_timeout=args.timeout,
        )
        for _, f in fs.items():
            try:
                f.result(timeout=args.timeout)
            except KafkaException as e:
                if e.args[0].name() != "TOPIC_ALREADY_EXISTS":
                    raise

    acks = [None] * len(records)
    errors = []

    def on_delivery(i):
        def cb(err, msg):
            if err is not None:
                errors.append("record %d: %s" % (i, err))
            else:
                acks[i] = (msg.partition(), msg.offset())

        return cb

    producer = Producer(
        dict(
            common,
            **{
                "compression.type": args.compression,
                "acks": "all",
                "linger.ms": 5,
                "message.timeout.ms": int(args.timeout * 1000),
                "enable.idempotence": args.idempotent,
            }
        )
    )
    for i, (k, v, h) in enumerate(records):
        while True:
            try:
                producer.produce(args.topic, key=k, value=v, headers=h, on_delivery=on_delivery(i))
                break
            except BufferError:
                producer.poll(0.1)
    remaining = producer.flush(args.timeout)
    if remaining:
        raise CheckError("%d records not delivered within %ss" % (remaining, args.timeout))
    if errors:
        raise CheckError("delivery failed: " + "; ".join(errors[:5]))

    consumer = Consumer(
        dict(common, **{"group.id": "fjord-e2e-unused", "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    )
    try:
        md = consumer.list_topics(args.topic, timeout=args.timeout)
        tmd = md.topics.get(args.topic)
        if tmd is None or tmd.error is not None or not tmd.partitions:
            raise CheckError("no metadata for topic %s: %s" % (args.topic, tmd and tmd.error))
        consumer.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in sorted(tmd.partitions)])
        got = []

        def take(m):
            if m is None:
                return
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF (only when enabled)
                    return
                raise CheckError("consume error: %s" % m.error())
            got.append((m.partition(), m.offset(), m.key(), m.value(), list(m.headers() or [])))

        deadline = time.monotonic() + args.timeout
        while len(got) < len(records) and time.monotonic() < deadline:
            take(consumer.poll(0.5))
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            take(consumer.poll(0.1))
    finally:
        consumer.close()
    return acks, got


# --------------------------------------------------------------------------- checks


def verify(records, acks, got):
    problems = []
    if len(got) != len(records):
        problems.append("consumed %d records, produced %d" % (len(got), len(records)))
    # the record at each (partition, offset) the producer was told about
    by_pos = {(m[0], m[1]): m for m in got}
    if len(by_pos) != len(got):
        problems.append("duplicate (partition, offset) pairs in consumed records")
    for i, (k, v, h) in enumerate(records):
        pos = acks[i]
        if pos is None:
            problems.append("record %d: no ack" % i)
            continue
        m = by_pos.get(tuple(pos))
        if m is None:
            problems.append("record %d: acked at partition %d offset %d but not consumed there" % (i, pos[0], pos[1]))
            continue
        _, _, mk, mv, mh = m
        if mk != k:
            problems.append("record %d: key %r != %r" % (i, mk, k))
        if mv != v:
            problems.append("record %d: value differs (len %d vs %d)" % (i, len(mv or b""), len(v)))
        if [(hk, bytes(hv) if hv is not None else None) for hk, hv in mh] != h:
            problems.append("record %d: headers %r != %r" % (i, mh, h))
        if len(problems) > 20:
            break
    # per-partition order: consumption order must follow offsets, and produce order within a partition
    last = {}
    for p, o, k, _, _ in got:
        if p in last and o <= last[p]:
            problems.append("partition %d: offset %d after %d" % (p, o, last[p]))
        last[p] = o
    produced_order = {}
    for i, pos in enumerate(acks):
        if pos is not None:
            produced_order.setdefault(pos[0], []).append((pos[1], i))
    for p, lst in produced_order.items():
        idxs = [i for _, i in sorted(lst)]
        if idxs != sorted(idxs):
            problems.append("partition %d: produce order not preserved in offsets" % p)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", required=True, help="HOST:PORT[,HOST:PORT...]")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--client", required=True, choices=("kafka-python", "confluent"))
    ap.add_argument("--compression", default="none", choices=CODECS)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--partitions", type=int, default=1, help="partitions when creating the topic")
    ap.add_argument("--value-size", type=int, default=64, help="padding bytes per value")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per phase")
    ap.add_argument("--no-create", action="store_true", help="do not create the topic")
    ap.add_argument("--idempotent", action="store_true", help="confluent: enable.idempotence")
    ap.add_argument("--api-version", help="kafka-python: fixed api_version like 2.6 (skips probing)")
    ap.add_argument("--debug", help="confluent: librdkafka debug contexts")
    args = ap.parse_args()

    result = {"client": args.client, "compression": args.compression, "topic": args.topic}

    def on_alarm(signum, frame):
        raise CheckError("watchdog: run exceeded %ds" % watchdog)

    watchdog = int(args.timeout * 4 + 15)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(watchdog)
    t0 = time.monotonic()
    try:
        probe(args.bootstrap)
        records = make_records(args.count, args.value_size)
        run = run_kafka_python if args.client == "kafka-python" else run_confluent
        acks, got = run(args, records)
        problems = verify(records, acks, got)
        result.update(produced=sum(1 for a in acks if a is not None), consumed=len(got))
        result["seconds"] = round(time.monotonic() - t0, 3)
        if problems:
            result.update(ok=False, problems=problems[:20])
        else:
            result["ok"] = True
    except Exception as e:  # noqa: BLE001 - any failure is reported as one JSON line
        result.update(ok=False, error="%s: %s" % (type(e).__name__, e))
    finally:
        signal.alarm(0)
    print(json.dumps(dict({"ok": result.pop("ok")}, **result)), flush=True)
    sys.exit(0 if result.get("problems") is None and result.get("error") is None else 1)


if __name__ == "__main__":
    main()
