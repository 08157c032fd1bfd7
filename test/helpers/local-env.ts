/**
 * Shared setup for the tests that run a real local two-region environment: a temp root whose environments are
 * all taken down (`dr local down` semantics) and removed after the suite, one environment brought up before
 * it, and an application-role write probe.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { LocalEnv } from '../../automation/adapters/rehearsal/index';
import { down, up } from '../../automation/rehearsal/environment';
import type { LocalState } from '../../automation/adapters/rehearsal/state';
import { makeTempDir, removeDir } from './services';

/** A temp dir for environments (one per subdirectory); after the suite every one is taken down, then removed. */
export function useLocalRoot(prefix: string): { readonly dir: string } {
  let dir: string | undefined;
  before(() => {
    dir = makeTempDir(prefix);
  });
  after(async function () {
    this.timeout(60_000);
    if (!dir) return;
    for (const e of fs.existsSync(dir) ? fs.readdirSync(dir) : []) await down(path.join(dir, e)).catch(() => undefined);
    removeDir(dir);
  });
  return {
    get dir() {
      return dir!;
    },
  };
}

export interface UpEnvironment {
  /** The environment's directory (`<root>/<name>`). */
  readonly dir: string;
  readonly state: LocalState;
  readonly env: LocalEnv;
}

/** Bring one environment up in `<root.dir>/<name>` before the suite (torn down by the root's after hook). */
export function useUpEnvironment(root: { readonly dir: string }, name = 'env'): UpEnvironment {
  let state: LocalState | undefined;
  let env: LocalEnv | undefined;
  const dir = () => path.join(root.dir, name);
  before(async function () {
    this.timeout(120_000);
    state = await up(dir());
    env = new LocalEnv(state);
  });
  return {
    get dir() {
      return dir();
    },
    get state() {
      return state!;
    },
    get env() {
      return env!;
    },
  };
}

/** Insert a probe row as the application role in `region`: true, or the error message. */
export async function appWrite(env: LocalEnv, region: string): Promise<true | string> {
  const c = new Client({ connectionString: env.appUrl(region), connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('INSERT INTO dr_probe (region, at) VALUES ($1, now())', [region]);
    return true;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}
