#!/usr/bin/env python3
"""confluent-kafka-python (librdkafka) transactions against a broker; prints one JSON result line.

Modes:
  basic  commit + abort + send_offsets_to_transaction; read_committed / read_uncommitted readers
  fence  a second producer with the same transactional.id fences the first
  ctp    consume-transform-produce loop: input topic -> output topic, offsets in the transaction;
         stops after --idle seconds without input (may be killed at any point and restarted)
"""
import argparse
import json
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition


def read_all(bootstrap, topic, isolation, until, timeout):
    c = Consumer({
        'bootstrap.servers': bootstrap,
        'group.id': 'reader-' + uuid.uuid4().hex,
        'auto.offset.reset': 'earliest',
        'enable.auto.commit': False,
        'isolation.level': isolation,
    })
    c.subscribe([topic])
    seen = []
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            v = m.value().decode()
            if v == until:
                return seen
            seen.append(v)
        raise RuntimeError('did not reach %s; saw %r' % (until, seen))
    finally:
        c.close()


def basic(a):
    p = Producer({'bootstrap.servers': a.bootstrap, 'transactional.id': 'py-basic', 'linger.ms': 1})
    p.init_transactions(10)
    p.begin_transaction()
    for i in range(3):
        p.produce(a.topic, value=('c%d' % i).encode())
    p.commit_transaction(10)
    p.begin_transaction()
    for i in range(3):
        p.produce(a.topic, value=('a%d' % i).encode())
    p.flush(10)
    p.abort_transaction(10)
    # offsets inside a transaction, committed together with the output
    c = Consumer({'bootstrap.servers': a.bootstrap, 'group.id': 'py-eos', 'enable.auto.commit': False})
    p.begin_transaction()
    p.produce(a.topic, value=b'END')
    p.send_offsets_to_transaction([TopicPartition(a.topic, 0, 4)], c.consumer_group_metadata(), 10)
    p.commit_transaction(10)
    committed = c.committed([TopicPartition(a.topic, 0)], 10)[0].offset
    c.close()
    rc = read_all(a.bootstrap, a.topic, 'read_committed', 'END', a.timeout)
    ru = read_all(a.bootstrap, a.topic, 'read_uncommitted', 'END', a.timeout)
    return {'read_committed': rc, 'read_uncommitted': ru, 'committed_offset': committed}


def fence(a):
    p1 = Producer({'bootstrap.servers': a.bootstrap, 'transactional.id': 'py-fence'})
    p1.init_transactions(10)
    p1.begin_transaction()
    p1.produce(a.topic, value=b'zombie')
    p1.flush(10)
    p2 = Producer({'bootstrap.servers': a.bootstrap, 'transactional.id': 'py-fence'})
    p2.init_transactions(10)
    err = None
    try:
        p1.produce(a.topic, value=b'zombie-2')
        p1.commit_transaction(10)
    except KafkaException as e:
        err = e.args[0]
    p2.begin_transaction()
    p2.produce(a.topic, value=b'END')
    p2.commit_transaction(10)
    rc = read_all(a.bootstrap, a.topic, 'read_committed', 'END', a.timeout)
    return {
        'fenced': err is not None and (err.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH) or err.fatal()),
        'error': str(err),
        'read_committed': rc,
    }


def ctp(a):
    consumer = Consumer({
        'bootstrap.servers': a.bootstrap,
        'group.id': 'py-ctp',
        'auto.offset.reset': 'earliest',
        'enable.auto.commit': False,
        'isolation.level': 'read_committed',
    })
    producer = Producer({'bootstrap.servers': a.bootstrap, 'transactional.id': 'py-ctp', 'linger.ms': 5})
    producer.init_transactions(30)
    # Manual assignment: the group's committed offsets (moved only by committed transactions) say
    # where a restarted processor resumes.
    parts = consumer.list_topics(a.topic, 10).topics[a.topic].partitions
    consumer.assign([TopicPartition(a.topic, p) for p in parts])
    processed = 0
    last_input = time.time() + a.timeout  # the first records may take a group join to arrive
    while time.time() - last_input < a.idle:
        msgs = [m for m in consumer.consume(500, 0.5) if not m.error()]
        if not msgs:
            continue
        last_input = time.time()
        producer.begin_transaction()
        for m in msgs:
            producer.produce(a.out, key=m.key(), value=b'out-' + m.value())
        positions = consumer.position(consumer.assignment())
        producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 30)
        producer.commit_transaction(30)
        processed += len(msgs)
        print(json.dumps({'progress': processed}), flush=True)
    consumer.close()
    return {'processed': processed}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bootstrap', required=True)
    ap.add_argument('--mode', required=True)
    ap.add_argument('--topic', required=True)
    ap.add_argument('--out', default='')
    ap.add_argument('--timeout', type=float, default=20)
    ap.add_argument('--idle', type=float, default=3)
    a = ap.parse_args()
    try:
        result = {'basic': basic, 'fence': fence, 'ctp': ctp}[a.mode](a)
        result['ok'] = True
    except Exception as e:  # reported to the test as JSON
        result = {'ok': False, 'error': repr(e)}
    print(json.dumps(result), flush=True)
    sys.exit(0 if result['ok'] else 1)


if __name__ == '__main__':
    main()
