// Fails when a module under src/ exports a value (function, const, enum) that no other file
// (src, test, bench, tools, scripts) mentions: such an export is dead API or should be
// module-private. Types and classes are not checked (exported signatures need their types exported). The
// generated codec (src/protocol/gen) and the public entry point (src/index.ts) are exempt.
// Usage: node scripts/check-unused-exports.mjs
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;
const exempt = [
  /^src\/protocol\/gen\//,
  /^src\/index\.ts$/,
  /^src\/streams\/index\.ts$/, // the `fjord/streams` entry point
];

function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const files = ['src', 'test', 'bench', 'tools', 'scripts'].flatMap((d) => {
  try {
    return walk(join(root, d));
  } catch {
    return [];
  }
});
const texts = new Map(files.map((f) => [relative(root, f), readFileSync(f, 'utf8')]));

/** Names a file exports by declaration (`export function x`, `export const x`, `export { x }`). */
function exportedNames(file, text) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const names = [];
  for (const st of sf.statements) {
    const exported = ts.canHaveModifiers(st) && ts.getModifiers(st)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause) && !st.moduleSpecifier) {
      for (const el of st.exportClause.elements) if (!el.isTypeOnly && !st.isTypeOnly) names.push(el.name.text);
    }
    if (!exported) continue;
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) names.push(d.name.text);
    } else if ((ts.isFunctionDeclaration(st) || ts.isEnumDeclaration(st)) && st.name) {
      names.push(st.name.text);
    }
  }
  return names;
}

const unused = [];
for (const [file, text] of texts) {
  if (!file.startsWith('src/') || !file.endsWith('.ts') || exempt.some((re) => re.test(file))) continue;
  for (const name of exportedNames(file, text)) {
    const re = new RegExp(`\\b${name}\\b`);
    let used = false;
    for (const [other, otherText] of texts) {
      if (other !== file && re.test(otherText)) {
        used = true;
        break;
      }
    }
    if (!used) unused.push(`${file}: ${name}`);
  }
}
if (unused.length > 0) {
  console.error(`Exports no other file uses (make them module-private or delete them):\n  ${unused.join('\n  ')}`);
  process.exit(1);
}
console.log(`unused exports: none (${texts.size} files checked)`);
