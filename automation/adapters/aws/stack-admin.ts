/**
 * Stack administration beyond what the failover needs: preview (to converge without needless updates), state
 * export/import and the stack settings file (config backups), creating missing stacks (a fresh account) and
 * destroy/remove (scratch drills).
 *
 * {@link AdminStack} EXTENDS E1's {@link StackLike} (automation/adapters/aws/stacks.ts): refresh/up/outputs/config/
 * history come from E1's Automation API wrapper unchanged ({@link automationDriver}); this module only adds the
 * missing operations on the same `LocalWorkspace` stack. Tests use a fake {@link AdminDriver}.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalWorkspace, Stack } from '@pulumi/pulumi/automation';
import { automationDriver } from './automation-workspace';
import { StackBusyError } from './retry';
import type { StackLike } from './stacks';

/** Counts per operation (`same`, `create`, `update`, `delete`, `replace`, …), as Pulumi's change summary. */
export type ChangeSummary = Record<string, number>;

export interface AdminStack extends StackLike {
  /** `pulumi config rm` (a missing key is not an error). */
  removeConfig(key: string, path: boolean): Promise<void>;
  /** `pulumi preview`: what an `up` would change now. */
  preview(opts: { message: string; onOutput: (out: string) => void }): Promise<{ changes: ChangeSummary }>;
  /** `pulumi stack export` as JSON text. Secret values in the state stay ciphertext (no --show-secrets). */
  exportState(): Promise<string>;
  /** `pulumi stack import` from {@link exportState}'s text. */
  importState(text: string): Promise<void>;
  /** The stack settings file (`Pulumi.<stack>.yaml`) exactly as stored: `secure:` values are ciphertext. */
  readSettings(): Promise<string | undefined>;
  /** Replace the stack settings file (atomically). */
  writeSettings(text: string): Promise<void>;
  /** `pulumi destroy` (scratch stacks only). */
  destroy(opts: { message: string; onOutput: (out: string) => void }): Promise<{ result: string }>;
  /** `pulumi stack rm` after a destroy (scratch stacks only). */
  remove(): Promise<void>;
}

export interface AdminDriver {
  /** Select an existing stack; throws when it does not exist. */
  select(stackName: string): Promise<AdminStack>;
  /** Select the stack, creating it (empty) when it does not exist yet. */
  selectOrCreate(stackName: string): Promise<AdminStack>;
}

/** True when `changes` would modify nothing (only `same`/`read`/`refresh`, or empty). */
export function isNoChange(changes: ChangeSummary): boolean {
  return Object.entries(changes).every(([op, n]) => ['same', 'read', 'refresh'].includes(op) || !n);
}

/** `{ create: 3, same: 10 }` → `3 create, 10 same`. */
export function describeChanges(changes: ChangeSummary): string {
  const parts = Object.entries(changes)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${n} ${op}`);
  return parts.length ? parts.join(', ') : 'nothing';
}

/** Settings file of a stack: `Pulumi.<last segment of the stack name>.yaml` in the project dir. */
export function settingsFile(workDir: string, stackName: string): string {
  return path.join(workDir, `Pulumi.${stackName.split('/').pop()}.yaml`);
}

export interface AutomationAdminOptions {
  workDir: string;
  envVars?: Record<string, string>;
}

function busy<T>(stack: string, p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    if (err && typeof err === 'object' && (err as Error).name === 'ConcurrentUpdateError') throw new StackBusyError(stack, `stack ${stack}: another update is in progress`);
    throw err;
  });
}

/** Production driver: E1's Automation API stack plus the admin operations on the same LocalWorkspace stack. */
export function automationAdminDriver(opts: AutomationAdminOptions): AdminDriver {
  const base = automationDriver(opts);
  const wsOpts = opts.envVars ? { envVars: opts.envVars } : undefined;
  const wrap = async (s: Stack): Promise<AdminStack> => {
    const core = await base.select(s.name);
    const file = settingsFile(opts.workDir, s.name);
    return {
      name: core.name,
      refresh: (o) => core.refresh(o),
      up: (o) => core.up(o),
      outputs: () => core.outputs(),
      getConfig: (k, p) => core.getConfig(k, p),
      setConfig: (k, v, p) => core.setConfig(k, v, p),
      history: (n) => core.history(n),
      async removeConfig(k, p) {
        await s.removeConfig(k, p);
      },
      async preview(o) {
        const r = await busy(s.name, s.preview({ message: o.message, onOutput: o.onOutput, color: 'never' }));
        return { changes: { ...r.changeSummary } as ChangeSummary };
      },
      async exportState() {
        return JSON.stringify(await s.exportStack(), null, 2);
      },
      async importState(text) {
        await busy(s.name, s.importStack(JSON.parse(text)));
      },
      async readSettings() {
        try {
          return fs.readFileSync(file, 'utf8');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw err;
        }
      },
      async writeSettings(text) {
        const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
        fs.writeFileSync(tmp, text, { mode: 0o600 });
        fs.renameSync(tmp, file);
      },
      async destroy(o) {
        const r = await busy(s.name, s.destroy({ message: o.message, onOutput: o.onOutput, color: 'never' }));
        return { result: r.summary.result };
      },
      async remove() {
        await s.workspace.removeStack(s.name);
      },
    };
  };
  return {
    async select(name) {
      return wrap(await LocalWorkspace.selectStack({ stackName: name, workDir: opts.workDir }, wsOpts));
    },
    async selectOrCreate(name) {
      return wrap(await LocalWorkspace.createOrSelectStack({ stackName: name, workDir: opts.workDir }, wsOpts));
    },
  };
}
