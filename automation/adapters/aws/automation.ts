/**
 * The ONE module that imports `@pulumi/pulumi/automation`: a {@link StackDriver} over a `LocalWorkspace` of this
 * project directory (the Pulumi CLI must be installed; the backend comes from the usual login / PULUMI_BACKEND_URL),
 * and the {@link AdminDriver} that adds what the failover does not need: preview (to converge without needless
 * updates), state export/import and the stack settings file (config backups), creating missing stacks (a fresh
 * account) and destroy/remove (scratch drills). Tests use fake drivers instead; nothing else in the project knows
 * about the Automation API.
 *
 * A `ConcurrentUpdateError` becomes a {@link StackBusyError} so the retry logic does not depend on this import.
 * There is no cancel here on purpose: the failover never cancels another update.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { ConcurrentUpdateError, LocalWorkspace, Stack } from '@pulumi/pulumi/automation';
import { type AdminDriver, type AdminStack, type ChangeSummary, settingsFile, type StackDriver, type StackLike, type StackUpdateSummary, type UpRequest } from './stacks';
import { StackBusyError } from './retry';

export interface AutomationDriverOptions {
  /** The Pulumi project directory (holds Pulumi.yaml and the Pulumi.<stack>.yaml files). */
  workDir: string;
  /** Extra environment for the Pulumi CLI (e.g. PULUMI_CONFIG_PASSPHRASE_FILE); never logged. */
  envVars?: Record<string, string>;
}

function busy<T>(stack: string, p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    if (err instanceof ConcurrentUpdateError || (err instanceof Error && err.name === 'ConcurrentUpdateError')) throw new StackBusyError(stack, `stack ${stack}: another update is in progress`);
    throw err;
  });
}

class AutomationStack implements StackLike {
  constructor(private readonly s: Stack) {}
  get name(): string {
    return this.s.name;
  }
  async refresh(opts: { message: string; onOutput: (out: string) => void }): Promise<void> {
    await busy(this.name, this.s.refresh({ message: opts.message, onOutput: opts.onOutput, color: 'never' }));
  }
  async up(opts: UpRequest): Promise<{ result: string }> {
    const r = await busy(
      this.name,
      this.s.up({ message: opts.message, onOutput: opts.onOutput, color: 'never', ...(opts.refresh ? { refresh: true } : {}), ...(opts.target?.length ? { target: opts.target, targetDependents: true } : {}) }),
    );
    return { result: r.summary.result };
  }
  outputs(): Promise<Record<string, { value: unknown; secret: boolean }>> {
    return this.s.outputs();
  }
  async getConfig(key: string, path: boolean): Promise<string | undefined> {
    try {
      return (await this.s.getConfig(key, path)).value;
    } catch (err) {
      // `pulumi config get` fails for an unset key.
      if (/configuration key .* not found|not found/i.test(err instanceof Error ? err.message : String(err))) return undefined;
      throw err;
    }
  }
  setConfig(key: string, value: string, path: boolean): Promise<void> {
    return this.s.setConfig(key, { value, secret: false }, path);
  }
  async history(pageSize: number): Promise<StackUpdateSummary[]> {
    const h = await this.s.history(pageSize, 1, false);
    return h.map((u) => ({ kind: u.kind, result: u.result, message: u.message, config: u.config }));
  }
}

/** A driver over `LocalWorkspace.selectStack({ stackName, workDir })`. */
export function automationDriver(opts: AutomationDriverOptions): StackDriver {
  return {
    async select(stackName: string): Promise<StackLike> {
      const s = await LocalWorkspace.selectStack({ stackName, workDir: opts.workDir }, opts.envVars ? { envVars: opts.envVars } : undefined);
      return new AutomationStack(s);
    },
  };
}

export interface AutomationAdminOptions {
  workDir: string;
  envVars?: Record<string, string>;
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
