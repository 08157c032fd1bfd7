/**
 * Locate the PostgreSQL and Redis command-line tools this project drives.
 *
 * Lookup order for each tool: an explicit override directory (`DR_PG_BIN` for PostgreSQL tools), then PATH,
 * then `/usr/lib/postgresql/<major>/bin` (highest major first) for PostgreSQL tools. A missing tool is an
 * error that says which Debian package provides it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_TOOL_PATH, ToolEnv } from './proc';

export const PG_TOOLS = ['initdb', 'pg_ctl', 'postgres', 'pg_basebackup', 'pg_dump', 'pg_restore', 'pg_rewind', 'psql', 'pgbench', 'pg_isready', 'pg_waldump'] as const;
export const REDIS_TOOLS = ['redis-server', 'redis-cli'] as const;
export type PgTool = (typeof PG_TOOLS)[number];
export type RedisTool = (typeof REDIS_TOOLS)[number];
export type Tool = PgTool | RedisTool;

/** Thrown when a tool cannot be found; the message names the Debian package to install. */
export class MissingToolError extends Error {
  constructor(readonly tool: Tool, readonly debianPackage: string, searched: readonly string[]) {
    super(`'${tool}' not found (searched ${searched.join(', ') || 'nothing'}); install it with: apt-get install ${debianPackage}`);
    this.name = 'MissingToolError';
  }
}

export interface BinaryLookupOptions {
  /** The caller's environment: PATH and DR_PG_BIN come from it (PATH defaults to {@link DEFAULT_TOOL_PATH}). */
  env?: ToolEnv;
  /** Root that holds `<major>/bin` PostgreSQL installs. */
  pgRoot?: string;
}

const cache = new Map<string, string>();

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `/usr/lib/postgresql/<major>/bin` directories, highest major version first. */
export function pgBinDirs(root = '/usr/lib/postgresql'): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+(\.\d+)?$/.test(e))
    .sort((a, b) => Number(b) - Number(a))
    .map((e) => path.join(root, e, 'bin'))
    .filter((d) => fs.existsSync(d));
}

function isPgTool(tool: Tool): tool is PgTool {
  return (PG_TOOLS as readonly string[]).includes(tool);
}

/**
 * Absolute path of `tool`. PostgreSQL tools prefer the highest `/usr/lib/postgresql/<major>/bin` over PATH
 * (Debian's PATH wrappers pick a cluster by config, which is not what we want), unless DR_PG_BIN is set.
 */
export function findBinary(tool: Tool, opts: BinaryLookupOptions = {}): string {
  const env = opts.env ?? {};
  const searchPath = env.PATH ?? DEFAULT_TOOL_PATH;
  const key = `${tool}|${env.DR_PG_BIN ?? ''}|${searchPath}|${opts.pgRoot ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const searched: string[] = [];
  const dirs: string[] = [];
  if (isPgTool(tool)) {
    if (env.DR_PG_BIN) dirs.push(env.DR_PG_BIN);
    dirs.push(...pgBinDirs(opts.pgRoot));
  }
  dirs.push(...searchPath.split(path.delimiter).filter(Boolean));
  for (const dir of dirs) {
    const file = path.join(dir, tool);
    searched.push(dir);
    if (isExecutable(file)) {
      cache.set(key, file);
      return file;
    }
  }
  throw new MissingToolError(tool, isPgTool(tool) ? 'postgresql' : 'redis-server', searched);
}

/** Find every tool up front, so a missing one fails before anything starts. */
export function requireTools(tools: readonly Tool[], opts: BinaryLookupOptions = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tools) out[t] = findBinary(t, opts);
  return out;
}
