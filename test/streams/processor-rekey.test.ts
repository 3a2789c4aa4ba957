// Processor API gaps not covered by processor.test.ts: a DSL process() that changes keys is
// followed by a repartition before groupByKey, Cancellable.cancel() stops a punctuator, and each
// punctuation type reacts only to its own clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Processor,
  type ProcessorContext,
  Produced,
  PunctuationType,
  Record,
  Serdes,
  StreamsBuilder,
  TopologyTestDriver,
} from '../../src/streams/index.js';

const S = Serdes.String();
const L = Serdes.Long();

describe('streams: Processor API re-keying and punctuator control (TopologyTestDriver)', () => {
  it('process() forwarding records under new keys repartitions before groupByKey', () => {
    const b = new StreamsBuilder();
    b.stream<string, string>('rk-in')
      .process(() => {
        let ctx: ProcessorContext<string, string>;
        return {
          init: (c: ProcessorContext<string, string>) => (ctx = c),
          // One input line "a b a" becomes one record per word, keyed by the word.
          process: (r: Record<string, string>) => {
            for (const word of r.value.split(' ')) ctx.forward(r.withKey(word).withValue(word));
          },
        };
      })
      .groupByKey()
      .count()
      .toStream()
      .to('rk-out', Produced.with(S, L));
    const topo = b.build();
    assert.equal(topo.subTopologies().length, 2, 'a key-changing process() forces a repartition');
    assert.ok([...topo.internalTopics.keys()].some((t) => t.endsWith('-repartition')));
    const driver = new TopologyTestDriver(topo);
    const input = driver.createInputTopic('rk-in', S, S);
    input.pipeInput('line-1', 'a b a');
    input.pipeInput('line-2', 'b c');
    assert.deepEqual(
      driver.createOutputTopic('rk-out', S, L).readKeyValuesToMap(),
      new Map([
        ['a', 2],
        ['b', 2],
        ['c', 1],
      ]),
    );
  });

  it('cancel() stops a punctuator; each type follows only its own clock', () => {
    const wallTicks: number[] = [];
    const streamTicks: number[] = [];
    class Ticker implements Processor<string, string, string, string> {
      private ctx!: ProcessorContext<string, string>;
      private maxSeen = -Infinity;
      init(ctx: ProcessorContext<string, string>): void {
        this.ctx = ctx;
        const wall = ctx.schedule(1000, PunctuationType.WALL_CLOCK_TIME, (ts) => {
          wallTicks.push(ts);
          ctx.forward(new Record('tick', `wall@${ts}`, ts));
        });
        ctx.schedule(500, PunctuationType.STREAM_TIME, (ts) => {
          streamTicks.push(ts);
          // Stop the wall-clock punctuator once stream time reaches 2000.
          if (ts >= 2000) wall.cancel();
        });
      }
      process(record: Record<string, string>): void {
        this.maxSeen = Math.max(this.maxSeen, record.timestamp);
        assert.equal(this.ctx.currentStreamTimeMs(), this.maxSeen, 'stream time = max timestamp seen');
        this.ctx.forward(record);
      }
    }
    const b = new StreamsBuilder();
    b.stream<string, string>('tk-in').process(() => new Ticker()).to('tk-out', Produced.with(S, S));
    const driver = new TopologyTestDriver(b.build(), {}, 0);
    const input = driver.createInputTopic('tk-in', S, S);
    const output = driver.createOutputTopic('tk-out', S, S);

    input.pipeInput('k', 'r1', 100);
    assert.deepEqual(streamTicks, [100], 'stream-time punctuator fires at the first record');
    driver.advanceWallClockTime(5_000);
    assert.deepEqual(streamTicks, [100], 'wall-clock advance does not move stream time');
    assert.deepEqual(wallTicks, [5_000]);

    input.pipeInput('k', 'r2', 300); // below 100 + 500: no stream tick
    input.pipeInput('k', 'r3', 50); // out of order: stream time stays 300
    assert.deepEqual(streamTicks, [100]);
    assert.deepEqual(wallTicks, [5_000], 'records do not fire wall-clock punctuators');

    input.pipeInput('k', 'r4', 2_100);
    assert.deepEqual(streamTicks, [100, 2_100]);
    driver.advanceWallClockTime(10_000);
    assert.deepEqual(wallTicks, [5_000], 'cancelled wall-clock punctuator never fires again');

    assert.deepEqual(
      output.readKeyValuesToList().map((kv) => `${kv.key}=${kv.value}`),
      ['k=r1', 'tick=wall@5000', 'k=r2', 'k=r3', 'k=r4'],
    );
  });
});
