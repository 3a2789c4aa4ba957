// `fjord config get|set`: DescribeConfigs / IncrementalAlterConfigs (AlterConfigs fallback).
import type { Admin } from '@platformatic/kafka';
import { allFlags, lastFlag, UsageError } from './args.js';
import {
  attempt,
  CliError,
  CONFIG_SOURCES,
  GLOBAL_USAGE,
  isUnsupportedApi,
  out,
  parseCommand,
  parseKeyValues,
  printJson,
  printTable,
  RESOURCE_BROKER,
  RESOURCE_GROUP,
  RESOURCE_TOPIC,
  withAdmin,
  type Globals,
} from './common.js';

export interface ConfigEntry {
  name: string;
  value: string | null;
  source: string;
  readOnly: boolean;
  sensitive: boolean;
}

type ResourceType = typeof RESOURCE_TOPIC | typeof RESOURCE_BROKER | typeof RESOURCE_GROUP;

export async function describeResourceConfigs(admin: Admin, type: ResourceType, name: string): Promise<ConfigEntry[]> {
  const [res] = await admin.describeConfigs({ resources: [{ resourceType: type, resourceName: name, configurationKeys: null }] });
  return (res?.configs ?? [])
    .map((c) => ({
      name: c.name,
      value: c.isSensitive ? null : (c.value ?? null),
      source: CONFIG_SOURCES[c.configSource] ?? String(c.configSource),
      readOnly: c.readOnly,
      sensitive: c.isSensitive,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Sets and deletes config overrides. Uses IncrementalAlterConfigs (what Kafka's own tools use);
 * brokers without it get a read-modify-write AlterConfigs of the current dynamic overrides.
 */
export async function alterResourceConfigs(
  admin: Admin,
  type: ResourceType,
  name: string,
  set: Record<string, string>,
  del: string[],
): Promise<void> {
  const configs = [
    ...Object.entries(set).map(([k, v]) => ({ name: k, configOperation: 0 as const, value: v })),
    ...del.map((k) => ({ name: k, configOperation: 1 as const, value: null })),
  ];
  try {
    await admin.incrementalAlterConfigs({ resources: [{ resourceType: type, resourceName: name, configs }] });
    return;
  } catch (err) {
    if (!isUnsupportedApi(err)) throw err;
  }
  const dynamicSource = type === RESOURCE_TOPIC ? 'DYNAMIC_TOPIC_CONFIG' : type === RESOURCE_GROUP ? 'GROUP_CONFIG' : 'DYNAMIC_BROKER_CONFIG';
  const current = await describeResourceConfigs(admin, type, name);
  const next = new Map(current.filter((c) => c.source === dynamicSource && c.value !== null).map((c) => [c.name, c.value as string]));
  for (const [k, v] of Object.entries(set)) next.set(k, v);
  for (const k of del) next.delete(k);
  await admin.alterConfigs({
    resources: [{ resourceType: type, resourceName: name, configs: [...next].map(([k, v]) => ({ name: k, value: v })) }],
  });
}

export const configUsage = `fjord config get (--topic T | --broker ID | --group G) [NAME]
fjord config set (--topic T | --broker ID | --group G) key=value... [--delete key]...

get   shows a topic's, broker's or group's configs (NAME, VALUE, SOURCE). With NAME, prints just
      that value. Group configs: share.auto.offset.reset, share.isolation.level,
      share.record.lock.duration.ms, share.session.timeout.ms, share.heartbeat.interval.ms.
      'fjord topic describe' shows only a topic's overrides.
set   sets (and with --delete removes) dynamic config overrides.

${GLOBAL_USAGE}`;

function resourceOf(args: ReturnType<typeof parseCommand>['args']): { type: ResourceType; name: string; label: string } {
  const topic = lastFlag(args, '--topic', '-t');
  const broker = lastFlag(args, '--broker');
  const group = lastFlag(args, '--group', '-g');
  if ([topic, broker, group].filter((v) => v !== undefined).length !== 1) throw new UsageError('give exactly one of --topic T, --broker ID or --group G');
  if (topic !== undefined) return { type: RESOURCE_TOPIC, name: topic, label: `topic "${topic}"` };
  if (group !== undefined) return { type: RESOURCE_GROUP, name: group, label: `group "${group}"` };
  if (!/^\d+$/.test(broker!)) throw new UsageError(`--broker expects a broker id, got "${broker}"`);
  return { type: RESOURCE_BROKER, name: broker!, label: `broker ${broker}` };
}

export async function configCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const spec = { '--topic': true, '-t': true, '--broker': true, '--group': true, '-g': true, '--delete': true };
  if (sub === 'get') {
    const { args, globals } = parseCommand(rest, spec);
    const res = resourceOf(args);
    if (args.positional.length > 1) throw new UsageError(`unexpected argument "${args.positional[1]}"`);
    const only = args.positional[0];
    await configGet(globals, res, only);
  } else if (sub === 'set') {
    const { args, globals } = parseCommand(rest, spec);
    const res = resourceOf(args);
    const set = parseKeyValues(args.positional, 'config');
    const del = allFlags(args, '--delete');
    if (Object.keys(set).length === 0 && del.length === 0) throw new UsageError('nothing to change: give key=value pairs or --delete key');
    await withAdmin(globals, (admin) =>
      attempt(`cannot alter configs of ${res.label}`, globals, () => alterResourceConfigs(admin, res.type, res.name, set, del)),
    );
    if (globals.json) printJson({ resource: res.type === RESOURCE_TOPIC ? 'topic' : res.type === RESOURCE_GROUP ? 'group' : 'broker', name: res.name, set, deleted: del });
    else out(`updated ${res.label}: ${[...Object.entries(set).map(([k, v]) => `${k}=${v}`), ...del.map((k) => `-${k}`)].join(' ')}`);
  } else if (sub === undefined) {
    throw new UsageError(`missing subcommand (get or set)\n\n${configUsage}`);
  } else {
    throw new UsageError(`unknown config subcommand "${sub}"\n\n${configUsage}`);
  }
}

async function configGet(g: Globals, res: { type: ResourceType; name: string; label: string }, only?: string): Promise<void> {
  const entries = await withAdmin(g, (admin) =>
    attempt(`cannot describe configs of ${res.label}`, g, () => describeResourceConfigs(admin, res.type, res.name)),
  );
  if (only !== undefined) {
    const e = entries.find((c) => c.name === only);
    if (!e) throw new CliError(`${res.label} has no config named "${only}"`);
    if (g.json) printJson(e);
    else out(e.value ?? (e.sensitive ? '(sensitive)' : ''));
    return;
  }
  if (g.json) {
    printJson(entries);
    return;
  }
  printTable(
    ['NAME', 'VALUE', 'SOURCE'],
    entries.map((e) => [e.name, e.sensitive ? '(sensitive)' : (e.value ?? ''), e.source]),
  );
}
