/**
 * The ONE module that imports `@pulumi/pulumi/automation`: a {@link StackDriver} over a `LocalWorkspace` of this
 * project directory (the Pulumi CLI must be installed; the backend comes from the usual login / PULUMI_BACKEND_URL).
 * Tests use a fake driver instead; nothing else in the adapters knows about the Automation API.
 *
 * A `ConcurrentUpdateError` becomes a {@link StackBusyError} so the retry logic does not depend on this import.
 * There is no cancel here on purpose: the failover never cancels another update.
 */
import { ConcurrentUpdateError, LocalWorkspace, Stack } from '@pulumi/pulumi/automation';
import type { StackDriver, StackLike, StackUpdateSummary } from './stacks';
import { StackBusyError } from './retry';

export interface AutomationDriverOptions {
  /** The Pulumi project directory (holds Pulumi.yaml and the Pulumi.<stack>.yaml files). */
  workDir: string;
  /** Extra environment for the Pulumi CLI (e.g. PULUMI_CONFIG_PASSPHRASE_FILE); never logged. */
  envVars?: Record<string, string>;
}

function busy<T>(stack: string, p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    if (err instanceof ConcurrentUpdateError) throw new StackBusyError(stack, `stack ${stack}: another update is in progress`);
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
  async up(opts: { message: string; onOutput: (out: string) => void }): Promise<{ result: string }> {
    const r = await busy(this.name, this.s.up({ message: opts.message, onOutput: opts.onOutput, color: 'never' }));
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
