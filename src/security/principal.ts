// Principals ("User:alice") and the mapping from a TLS client certificate's distinguished name
// to a user name with Kafka's `ssl.principal.mapping.rules`
// ("RULE:^CN=(.*?),OU=.*$/$1/L, DEFAULT").

export const ANONYMOUS = 'User:ANONYMOUS';
export const userPrincipal = (name: string): string => `User:${name}`;

interface MappingRule {
  pattern: RegExp | null; // null = DEFAULT
  replacement: string;
  toLower: boolean;
  toUpper: boolean;
}

export function parsePrincipalMappingRules(text: string | null | undefined): MappingRule[] {
  const rules: MappingRule[] = [];
  if (!text || text.trim() === '' || text.trim() === 'DEFAULT') return [{ pattern: null, replacement: '', toLower: false, toUpper: false }];
  const re = /\s*(DEFAULT|RULE:((?:\\\/|[^/])*)\/((?:\\\/|[^/])*)\/([LU]?))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(text)) !== null && m[0] !== '') {
    consumed = re.lastIndex;
    if (m[1] === 'DEFAULT') rules.push({ pattern: null, replacement: '', toLower: false, toUpper: false });
    else
      rules.push({
        pattern: new RegExp(m[2]!.replace(/\\\//g, '/')),
        replacement: m[3]!.replace(/\\\//g, '/'),
        toLower: m[4] === 'L',
        toUpper: m[4] === 'U',
      });
  }
  if (consumed !== text.length) throw new Error(`Invalid ssl.principal.mapping.rules: ${text}`);
  return rules;
}

/** Applies the first matching rule (Kafka: a rule matches when its pattern matches the whole DN). */
export function mapDistinguishedName(dn: string, rules: MappingRule[]): string {
  for (const rule of rules) {
    if (rule.pattern === null) return dn;
    const whole = new RegExp(`^(?:${rule.pattern.source})$`);
    if (!whole.test(dn)) continue;
    let name = dn.replace(whole, rule.replacement.replace(/\$(\d)/g, '$$$1'));
    if (rule.toLower) name = name.toLowerCase();
    if (rule.toUpper) name = name.toUpperCase();
    return name;
  }
  throw new Error(`No ssl.principal.mapping.rules rule matches ${dn}`);
}

/** RFC 2253 form of a certificate subject as Node reports it (most specific first, as Java prints it). */
export function subjectToDn(subject: Record<string, string | string[]> | undefined): string {
  if (!subject) return '';
  const order = ['CN', 'OU', 'O', 'L', 'ST', 'C', 'DC', 'UID', 'emailAddress'];
  const keys = Object.keys(subject).sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  const esc = (v: string) => v.replace(/([,+"\\<>;])/g, '\\$1');
  const parts: string[] = [];
  for (const k of keys) {
    const v = subject[k]!;
    for (const item of Array.isArray(v) ? v : [v]) parts.push(`${k}=${esc(item)}`);
  }
  return parts.join(',');
}
