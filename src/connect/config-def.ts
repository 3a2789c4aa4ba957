// Validates string configs against a ConfigDef and renders Kafka Connect's validate response shape.
import type { ConfigDef, ConfigKey } from './sdk.js';

export interface ConfigValueReport {
  definition: {
    name: string;
    type: string;
    required: boolean;
    default_value: string | null;
    importance: string;
    documentation: string;
    group: string | null;
    width: string;
    display_name: string;
    dependents: string[];
    order: number;
  };
  value: { name: string; value: string | null; recommended_values: string[]; errors: string[]; visible: boolean };
}

function validateValue(name: string, key: ConfigKey, raw: string | undefined): string[] {
  if (raw === undefined) {
    return key.default === undefined ? [`Missing required configuration "${name}" which has no default value.`] : [];
  }
  const errs: string[] = [];
  const bad = (what: string) => errs.push(`Invalid value ${raw} for configuration ${name}: ${what}`);
  switch (key.type) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(raw.trim())) bad('Not a number of type ' + key.type.toUpperCase());
      else {
        const n = Number(raw);
        if (key.min !== undefined && n < key.min) bad(`Value must be at least ${key.min}`);
        if (key.max !== undefined && n > key.max) bad(`Value must be no more than ${key.max}`);
      }
      break;
    }
    case 'double':
      if (raw.trim() === '' || Number.isNaN(Number(raw))) bad('Not a number of type DOUBLE');
      break;
    case 'boolean':
      if (!/^(true|false)$/i.test(raw.trim())) bad('Expected value to be either true or false');
      break;
    default:
      break;
  }
  if (key.validValues && errs.length === 0) {
    const values = key.type === 'list' ? splitList(raw) : [raw.trim()];
    for (const v of values) {
      if (!key.validValues.some((x) => x.toLowerCase() === v.toLowerCase())) bad(`String must be one of: ${key.validValues.join(', ')}`);
    }
  }
  return errs;
}

export function splitList(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function reportConfigs(
  def: ConfigDef,
  config: Record<string, string>,
  extraErrors: Record<string, string[]> = {},
  startOrder = 0,
): ConfigValueReport[] {
  let order = startOrder;
  return Object.entries(def).map(([name, key]) => {
    const errors = [...validateValue(name, key, config[name]), ...(extraErrors[name] ?? [])];
    const dflt = key.default === undefined || key.default === null ? null : Array.isArray(key.default) ? key.default.join(',') : String(key.default);
    return {
      definition: {
        name,
        type: key.type.toUpperCase(),
        required: key.default === undefined,
        default_value: dflt,
        importance: (key.importance ?? 'medium').toUpperCase(),
        documentation: key.documentation ?? '',
        group: key.group ?? null,
        width: 'NONE',
        display_name: name,
        dependents: [],
        order: ++order,
      },
      value: {
        name,
        value: config[name] === undefined ? dflt : key.type === 'password' ? '[hidden]' : config[name],
        recommended_values: key.validValues ?? [],
        errors,
        visible: true,
      },
    };
  });
}

/** Typed read access with defaults applied, for connectors. */
export class Config {
  constructor(
    private readonly def: ConfigDef,
    readonly raw: Record<string, string>,
  ) {}
  private get(name: string): string | undefined {
    const v = this.raw[name];
    if (v !== undefined) return v;
    const d = this.def[name]?.default;
    if (d === undefined || d === null) return undefined;
    return Array.isArray(d) ? d.join(',') : String(d);
  }
  string(name: string): string {
    const v = this.get(name);
    if (v === undefined) throw new Error(`Missing required configuration "${name}"`);
    return v;
  }
  optString(name: string): string | undefined {
    const v = this.get(name);
    return v === undefined || v === '' ? undefined : v;
  }
  int(name: string): number {
    return Number(this.string(name));
  }
  bool(name: string): boolean {
    return this.string(name).toLowerCase() === 'true';
  }
  list(name: string): string[] {
    return splitList(this.get(name));
  }
}
