// Round-trips every message (requests, responses, headers, data, internal records) at every
// valid version through the generated encoders and decoders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  type MessageSpec,
  loadDir,
  loadMessages,
  locateProtocolDir,
  moduleBase,
  kebab,
  parseRange,
} from '../../tools/codegen/schema.js';
import { Reader, Writer } from '../../src/protocol/primitives.js';
import { SampleBuilder, assertMatches } from './sample.js';

const protoDir = locateProtocolDir();
const messages = loadMessages(protoDir);
const internal = loadDir(join(protoDir, 'internal-records'));

async function load(spec: MessageSpec, isInternal: boolean): Promise<{ decode: any; encode: any; dflt: any }> {
  const path = isInternal ? `../../src/protocol/gen/internal/${kebab(spec.name)}.js` : `../../src/protocol/gen/${moduleBase(spec)}.js`;
  const mod = await import(path);
  const decode = mod[`decode${spec.name}`];
  const encode = mod[`encode${spec.name}`];
  const dflt = mod[`default${spec.name}`];
  assert.equal(typeof decode, 'function', `decode${spec.name} missing in ${path}`);
  assert.equal(typeof encode, 'function', `encode${spec.name} missing in ${path}`);
  return { decode, encode, dflt };
}

function roundTrip(spec: MessageSpec, fns: { decode: any; encode: any; dflt: any }): number {
  const vr = parseRange(spec.validVersions);
  let cases = 0;
  for (let v = vr.lo; v <= vr.hi; v++) {
    for (const opts of [
      { nulls: false, chunkedRecords: false },
      { nulls: true, chunkedRecords: false },
      { nulls: false, chunkedRecords: true },
    ]) {
      const { input, expected } = new SampleBuilder(spec, v, opts).build();
      const w = new Writer(16);
      fns.encode(w, v, input);
      const bytes = w.toBuffer();
      assert.equal(bytes.length, w.length);
      const r = new Reader(bytes);
      let decoded: any;
      try {
        decoded = fns.decode(r, v);
      } catch (e) {
        throw new Error(`${spec.name} v${v} ${JSON.stringify(opts)}: decode failed: ${(e as Error).message}`);
      }
      assert.equal(r.remaining(), 0, `${spec.name} v${v}: trailing bytes`);
      try {
        assertMatches(decoded, expected, `${spec.name}v${v}`);
      } catch (e) {
        throw new Error(`${spec.name} v${v} ${JSON.stringify(opts)}: ${(e as Error).message}`);
      }
      // Re-encoding the decoded form gives identical bytes.
      const w2 = new Writer();
      fns.encode(w2, v, decoded);
      assert.ok(w2.toBuffer().equals(bytes), `${spec.name} v${v}: re-encode differs`);
      cases++;
    }
    // Empty input encodes all defaults and decodes to the default object.
    const w = new Writer();
    fns.encode(w, v, {});
    const r = new Reader(w.toBuffer());
    const decoded = fns.decode(r, v);
    assert.equal(r.remaining(), 0);
    assert.deepStrictEqual(decoded, fns.dflt(), `${spec.name} v${v}: defaults`);
    // The default object (with default-valued tagged structs) encodes to the same bytes as {}.
    const w3 = new Writer();
    fns.encode(w3, v, fns.dflt());
    assert.ok(w3.toBuffer().equals(w.toBuffer()), `${spec.name} v${v}: default object re-encodes differently`);
  }
  return cases;
}

test('every API message round-trips at every version', async () => {
  let total = 0;
  for (const spec of messages) total += roundTrip(spec, await load(spec, false));
  assert.ok(total > 1000, `only ${total} cases`);
});

test('every internal record round-trips at every version', async () => {
  for (const spec of internal) roundTrip(spec, await load(spec, true));
});

test('out-of-range versions are rejected', async () => {
  const { decodeProduceRequest, encodeProduceRequest } = await import('../../src/protocol/gen/produce.js');
  assert.throws(() => encodeProduceRequest(new Writer(), 99, {}), /unsupported version/);
  assert.throws(() => decodeProduceRequest(new Reader(Buffer.alloc(64)), -1), /unsupported version/);
});
