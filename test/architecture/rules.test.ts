/**
 * The layout's rules, checked from the code itself (docs/architecture.md is the map they enforce):
 * - the engines import no SDK, no Pulumi, spawn no process and touch no file system, network or OS directly,
 *   and import nothing from cli/ or adapters/;
 * - adapters and ops import nothing from cli/; adapters import nothing from ops/, rehearsal/ or lambda/;
 * - every module outside an engine imports the engine through its index.ts;
 * - only the entry files (automation/main.ts, the Lambda handlers) read process.argv/env, set the exit code or
 *   read TTY state;
 * - the layers only import downwards, so there are no cycles between folders;
 * - no function in automation/, lib/, components/ or policy/ is longer than about 120 lines.
 *
 * Imports are read with the TypeScript compiler's own pre-processor, and `process.*` uses from the syntax tree
 * (so comments and strings, such as the s3rver child program's source, do not count).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');

/** The layers, lowest first. A module may import its own layer's modules named in `may`, and nothing else. */
const LAYERS: Record<string, { may: string[] }> = {
  core: { may: [] },
  lib: { may: [] },
  components: { may: ['lib'] },
  program: { may: ['components', 'lib'] },
  policy: { may: ['lib'] },
  backup: { may: ['core', 'lib'] },
  failover: { may: ['core', 'lib'] },
  tokens: { may: ['core', 'lib'] },
  readiness: { may: ['core', 'lib'] },
  'adapters/tools': { may: ['core', 'lib', 'backup', 'failover', 'tokens', 'readiness'] },
  'adapters/aws': { may: ['core', 'lib', 'backup', 'failover', 'tokens', 'readiness', 'adapters/tools', 'adapters/bots'] },
  'adapters/bots': { may: ['core', 'lib', 'tokens', 'readiness'] },
  'adapters/rehearsal': { may: ['core', 'lib', 'backup', 'failover', 'tokens', 'readiness', 'adapters/tools', 'adapters/bots'] },
  'bot-runtime': { may: ['core', 'tokens'] },
  ops: { may: ['core', 'lib', 'backup', 'failover', 'tokens', 'readiness', 'adapters/tools', 'adapters/aws', 'adapters/bots'] },
  rehearsal: { may: ['core', 'lib', 'backup', 'failover', 'tokens', 'readiness', 'bot-runtime', 'adapters/tools', 'adapters/aws', 'adapters/bots', 'adapters/rehearsal', 'ops'] },
  cli: { may: ['core', 'lib', 'backup', 'failover', 'tokens', 'readiness', 'bot-runtime', 'adapters/tools', 'adapters/aws', 'adapters/bots', 'adapters/rehearsal', 'ops', 'rehearsal'] },
  lambda: { may: ['core', 'lib', 'backup', 'failover', 'tokens', 'readiness', 'adapters/tools', 'adapters/aws', 'adapters/bots', 'ops'] },
  main: { may: ['cli', 'core'] },
};
const ENGINES = ['backup', 'failover', 'tokens', 'readiness'];
/** Node built-ins an engine must not touch: processes, files, the OS, the network. */
const ENGINE_FORBIDDEN_BUILTINS = /^(node:)?(child_process|fs|fs\/promises|os|net|http|https|dgram|dns|tls|cluster|worker_threads)$/;
/** The only files that read the process's argv/env, set its exit code or read TTY state. */
const ENTRY_FILES = new Set(['automation/main.ts', 'automation/lambda/handler.ts', 'automation/lambda/token-monitor.ts', 'automation/lambda/readiness.ts', 'automation/lambda/ecs-task.ts']);
const MAX_FUNCTION_LINES = 120;

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(rel);
    }
  };
  for (const d of ['automation', 'lib', 'components', 'policy']) walk(d);
  out.push('index.ts');
  return out.sort();
}

/** The layer a repository file belongs to. */
export function layerOf(file: string): string {
  if (file === 'index.ts') return 'program';
  if (file === 'automation/main.ts') return 'main';
  const m = /^automation\/(adapters\/[^/]+|[^/]+)\//.exec(file);
  if (m) return m[1];
  return file.split('/')[0];
}

interface Import {
  from: string;
  spec: string;
  /** The repository file it resolves to (relative imports only). */
  file?: string;
}

function resolveLocal(from: string, spec: string): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const c of [base, `${base}.ts`, `${base}/index.ts`]) if (fs.existsSync(path.join(ROOT, c)) && fs.statSync(path.join(ROOT, c)).isFile()) return c;
  return undefined;
}

function importsOf(file: string, text: string): Import[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((i) => ({ from: file, spec: i.fileName, ...(i.fileName.startsWith('.') ? { file: resolveLocal(file, i.fileName) } : {}) }));
}

const files = sourceFiles();
const texts = new Map(files.map((f) => [f, fs.readFileSync(path.join(ROOT, f), 'utf8')]));
const imports = files.flatMap((f) => importsOf(f, texts.get(f)!));

describe('architecture: the layout rules (docs/architecture.md)', () => {
  it('reads every source file and resolves every relative import', () => {
    assert.ok(files.length > 100, `only ${files.length} source files found`);
    const unresolved = imports.filter((i) => i.spec.startsWith('.') && !i.file).map((i) => `${i.from} → ${i.spec}`);
    assert.deepEqual(unresolved, []);
  });

  it('every file belongs to a known layer', () => {
    assert.deepEqual(files.filter((f) => !LAYERS[layerOf(f)]).map((f) => `${f} (${layerOf(f)})`), []);
  });

  it('the engines import no AWS SDK, no Pulumi, no process/file/network built-in, nothing from cli/ or adapters/', () => {
    const bad = imports
      .filter((i) => ENGINES.includes(layerOf(i.from)))
      .filter((i) => (i.file ? /^automation\/(cli|adapters)\//.test(i.file) : /^@aws-sdk\/|^@pulumi\//.test(i.spec) || ENGINE_FORBIDDEN_BUILTINS.test(i.spec)))
      .map((i) => `${i.from} imports ${i.file ?? i.spec}`);
    assert.deepEqual(bad, []);
  });

  it('adapters and ops import nothing from cli/; adapters nothing from ops/, rehearsal/ or lambda/', () => {
    const bad = imports
      .filter((i) => i.file && (/^adapters\//.test(layerOf(i.from)) || layerOf(i.from) === 'ops'))
      .filter((i) => layerOf(i.file!) === 'cli' || (/^adapters\//.test(layerOf(i.from)) && ['ops', 'rehearsal', 'lambda'].includes(layerOf(i.file!))))
      .map((i) => `${i.from} imports ${i.file}`);
    assert.deepEqual(bad, []);
  });

  it('modules outside an engine import it through its index.ts', () => {
    const bad = imports
      .filter((i) => i.file && ENGINES.includes(layerOf(i.file)) && layerOf(i.from) !== layerOf(i.file))
      .filter((i) => i.file !== `automation/${layerOf(i.file!)}/index.ts`)
      .map((i) => `${i.from} imports ${i.file}`);
    assert.deepEqual(bad, []);
  });

  it('each layer imports only the layers below it (no cycles between folders)', () => {
    const bad = imports
      .filter((i) => i.file && layerOf(i.file) !== layerOf(i.from))
      .filter((i) => !LAYERS[layerOf(i.from)]?.may.includes(layerOf(i.file!)))
      .map((i) => `${i.from} (${layerOf(i.from)}) imports ${i.file} (${layerOf(i.file!)})`);
    assert.deepEqual(bad, []);
  });

  it('the folder graph has no cycle', () => {
    const edges = new Map<string, Set<string>>();
    for (const i of imports) {
      if (!i.file) continue;
      const [a, b] = [path.posix.dirname(i.from), path.posix.dirname(i.file)];
      if (a === b || b.startsWith(`${a}/`) || a.startsWith(`${b}/`)) continue; // a folder and its own subfolders are one unit
      (edges.get(a) ?? edges.set(a, new Set()).get(a)!).add(b);
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (n: string, trail: string[]): void => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(n)), n].join(' → '));
        return;
      }
      state.set(n, 'open');
      for (const m of edges.get(n) ?? []) visit(m, [...trail, n]);
      state.set(n, 'done');
    };
    for (const n of edges.keys()) visit(n, []);
    assert.deepEqual(cycles, []);
  });

  it('only the entry files read process.argv/env, set the exit code, exit or read TTY state', () => {
    const bad: string[] = [];
    for (const f of files.filter((x) => !ENTRY_FILES.has(x))) {
      const sf = ts.createSourceFile(f, texts.get(f)!, ts.ScriptTarget.ES2022, true);
      const visit = (n: ts.Node): void => {
        if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'process' && ['argv', 'env', 'exit', 'exitCode', 'stdin', 'stdout', 'stderr'].includes(n.name.text)) {
          const parent = n.parent;
          const tty = ts.isPropertyAccessExpression(parent) && parent.name.text === 'isTTY';
          if (['argv', 'env', 'exit', 'exitCode'].includes(n.name.text) || tty) bad.push(`${f}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1} process.${n.name.text}${tty ? '.isTTY' : ''}`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    assert.deepEqual(bad, []);
  });

  it(`no function is longer than ${MAX_FUNCTION_LINES} lines`, () => {
    const long: string[] = [];
    for (const f of files) {
      const sf = ts.createSourceFile(f, texts.get(f)!, ts.ScriptTarget.ES2022, true);
      const visit = (n: ts.Node): void => {
        if (ts.isFunctionLike(n) && 'body' in n && n.body) {
          const start = sf.getLineAndCharacterOfPosition(n.getStart()).line;
          const lines = sf.getLineAndCharacterOfPosition(n.end).line - start + 1;
          if (lines > MAX_FUNCTION_LINES) long.push(`${f}:${start + 1} ${lines} lines`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    assert.deepEqual(long, []);
  });
});
