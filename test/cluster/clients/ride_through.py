#!/usr/bin/env python3
"""Produce or consume across a leader failover with nothing beyond the client's own retries.

produce: sends COUNT values "<prefix>-<i>" one at a time (acks=all), printing "acked <i>" after
each acknowledgement, so the test can kill the leader mid-way. consume: reads partition 0 from the
beginning until COUNT values or the timeout and prints them as one JSON list.
"""
import argparse
import json
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument('--client', choices=['confluent', 'kafka-python'], required=True)
ap.add_argument('--mode', choices=['produce', 'consume'], required=True)
ap.add_argument('--bootstrap', required=True)
ap.add_argument('--topic', required=True)
ap.add_argument('--count', type=int, default=100)
ap.add_argument('--prefix', default='py')
ap.add_argument('--timeout', type=float, default=60)
args = ap.parse_args()
deadline = time.time() + args.timeout


def out(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


if args.client == 'confluent':
    from confluent_kafka import Consumer, Producer, TopicPartition

    if args.mode == 'produce':
        p = Producer({'bootstrap.servers': args.bootstrap, 'enable.idempotence': True, 'acks': 'all',
                      'message.timeout.ms': int(args.timeout * 1000), 'retry.backoff.ms': 100,
                      'linger.ms': 0})
        for i in range(args.count):
            result = {}
            p.produce(args.topic, value=f'{args.prefix}-{i}'.encode(), partition=0,
                      on_delivery=lambda err, msg: result.setdefault('err', err))
            while 'err' not in result and time.time() < deadline:
                p.poll(0.1)
            if result.get('err') is not None or 'err' not in result:
                out(f'failed {i} {result.get("err")}')
                sys.exit(1)
            out(f'acked {i}')
    else:
        c = Consumer({'bootstrap.servers': args.bootstrap, 'group.id': f'ride-{args.prefix}',
                      'enable.auto.commit': False, 'isolation.level': 'read_committed'})
        c.assign([TopicPartition(args.topic, 0, 0)])
        values = []
        while len(values) < args.count and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and m.error() is None:
                values.append(m.value().decode())
        c.close()
        out(json.dumps(values))
else:
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    if args.mode == 'produce':
        p = KafkaProducer(bootstrap_servers=args.bootstrap, acks='all', retries=100, retry_backoff_ms=200,
                          max_in_flight_requests_per_connection=1, request_timeout_ms=5000,
                          metadata_max_age_ms=1000, reconnect_backoff_max_ms=500)
        for i in range(args.count):
            try:
                p.send(args.topic, value=f'{args.prefix}-{i}'.encode(), partition=0).get(timeout=max(1, deadline - time.time()))
            except Exception as e:  # noqa: BLE001 - reported to the test
                out(f'failed {i} {e!r}')
                sys.exit(1)
            out(f'acked {i}')
        p.close(timeout=10)
    else:
        # kafka-python 2.0.2 has no isolation_level (it reads uncommitted; nothing here is transactional).
        c = KafkaConsumer(bootstrap_servers=args.bootstrap, enable_auto_commit=False, group_id=None,
                          consumer_timeout_ms=1000)
        tp = TopicPartition(args.topic, 0)
        c.assign([tp])
        c.seek(tp, 0)
        values = []
        while len(values) < args.count and time.time() < deadline:
            for m in c:
                values.append(m.value.decode())
                if len(values) >= args.count:
                    break
        c.close()
        out(json.dumps(values))
