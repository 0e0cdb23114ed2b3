// The layers docs/development.md describes, held: model/, plan/ and render/
// stay pure (no programs run, no process state, no pluto client), status/
// judges without reaching into the CLI or apply, model/ and render/ need
// neither libreswan/ nor cert/. Read with TypeScript's own parser, so a
// comment or a string that mentions a module is no import, and a type-only
// import is one.
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..', '..');
const SRC = join(ROOT, 'src');

/** A module a file uses: relative ones as a path under src/ without extension ("system/command"). */
interface Use {
  specifier: string;
  /** src/-relative path for a relative import; the specifier itself for a package. */
  target: string;
}

function usesOf(file: string, text: string): { imports: Use[]; processUses: number[] } {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const imports: Use[] = [];
  const processUses: number[] = [];
  const add = (specifier: string) => {
    const target = specifier.startsWith('.') ? posix.join(posix.dirname(file), specifier).replace(/\.(js|ts)$/, '') : specifier;
    imports.push({ specifier, target });
  };
  const visit = (n: ts.Node) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) add(n.moduleSpecifier.text);
    else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require')) && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) add(n.arguments[0].text);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) add(n.argument.literal.text);
    else if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'process') processUses.push(source.getLineAndCharacterOfPosition(n.getStart()).line + 1);
    ts.forEachChild(n, visit);
  };
  visit(source);
  return { imports, processUses };
}

interface Rule {
  /** The files it applies to: their src/-relative path starts with one of these. */
  in: string[];
  why: string;
  forbids: (target: string) => boolean;
  /** Whether `process.` is forbidden too. */
  noProcess?: boolean;
}

const under = (...dirs: string[]) => (t: string) => dirs.some((d) => t === d || t.startsWith(`${d}/`));

const RULES: Rule[] = [
  {
    in: ['render/', 'plan/', 'model/'],
    why: 'pure: runs no program and asks no pluto',
    forbids: (t) => ['node:child_process', 'child_process', 'execa'].includes(t) || under('system')(t) || /^libreswan\/(whack[^/]*|plutoClient|algparse|checkconfig)$/.test(t),
    noProcess: true,
  },
  { in: ['status/'], why: 'status judges on its own, without the CLI or apply', forbids: under('cli', 'apply') },
  { in: ['model/'], why: 'the model needs neither libreswan/ nor cert/', forbids: under('libreswan', 'cert') },
  { in: ['render/'], why: 'rendering needs no certificate authority', forbids: under('cert') },
];

/** What breaks a rule in one file (its path relative to src/, with '/'), one line each. */
function violations(file: string, text: string): string[] {
  const rules = RULES.filter((r) => r.in.some((p) => file.startsWith(p)));
  if (rules.length === 0) return [];
  const { imports, processUses } = usesOf(file, text);
  const out: string[] = [];
  for (const r of rules) {
    for (const u of imports) if (r.forbids(u.target)) out.push(`src/${file} imports '${u.specifier}' (${r.why})`);
    if (r.noProcess) for (const line of processUses) out.push(`src/${file}:${line} uses process. (${r.why})`);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('layers', () => {
  it('every file under src/ keeps to its layer', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) => violations(relative(SRC, f).split(sep).join('/'), readFileSync(f, 'utf8')));
    expect(found).toEqual([]);
  });

  it('names the file and the import of each kind of crossing, and only of real code', () => {
    const bad = [
      "import { runCommandSync } from '../system/command.js';",
      "import type { PlutoClient } from '../libreswan/plutoClient.js';",
      "export { x } from 'node:child_process';",
      "const m = await import('execa');",
      'const pid = process.pid;',
      "// process.env in a comment, and import '../system/command.js' too",
      "const s = 'process.exit()';",
    ].join('\n');
    expect(violations('render/x.ts', bad)).toEqual([
      "src/render/x.ts imports '../system/command.js' (pure: runs no program and asks no pluto)",
      "src/render/x.ts imports '../libreswan/plutoClient.js' (pure: runs no program and asks no pluto)",
      "src/render/x.ts imports 'node:child_process' (pure: runs no program and asks no pluto)",
      "src/render/x.ts imports 'execa' (pure: runs no program and asks no pluto)",
      'src/render/x.ts:5 uses process. (pure: runs no program and asks no pluto)',
    ]);
    expect(violations('status/x.ts', "import { readPlan } from '../cli/planFile.js';\nimport { isOurConn } from '../apply/reconcile.js';")).toHaveLength(2);
    expect(violations('model/x.ts', "import type { HostCertificate } from '../cert/pki.js';\nimport { checkEspBuiltin } from '../libreswan/algorithms.js';")).toHaveLength(2);
    expect(violations('render/x.ts', "import type { Ca } from '../cert/pki.js';")).toHaveLength(1);
    // What a layer may use passes, and a file outside the rules is not judged by them.
    expect(violations('plan/x.ts', "import { connNames } from '../model/names.js';\nimport { isIPv4 } from 'node:net';")).toEqual([]);
    expect(violations('apply/x.ts', bad)).toEqual([]);
  });
});
