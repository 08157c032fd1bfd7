/**
 * A fake Automation API workspace behind {@link AdminDriver}: stacks with config, a deployed state, outputs,
 * history, export/import and a settings file. A tiny "program" decides what each stack would deploy from its
 * config and its peer's outputs, so preview/up behave like Pulumi's: no changes once deployed with the same inputs.
 */
import type { AdminDriver, AdminStack, ChangeSummary, StackUpdateSummary } from '../../automation/adapters/aws/stacks';

export type Program = (stack: FakeStack, world: FakeWorld) => { fingerprint: string; outputs: Record<string, unknown>; resources: number };

export class FakeStack implements AdminStack {
  config: Record<string, string> = {};
  deployed?: { fingerprint: string; resources: number };
  outs: Record<string, unknown> = {};
  hist: StackUpdateSummary[] = [];
  settings?: string;
  /** Ciphertext of a secret in the state (must survive export/import untouched). */
  stateSecret = 'v1:c2VjcmV0LWNpcGhlcnRleHQ=';
  removed = false;

  constructor(readonly name: string, private readonly world: FakeWorld) {}

  private call(op: string): void {
    this.world.calls.push(`${op} ${this.name}`);
    const fail = this.world.fail.get(`${op} ${this.name}`);
    if (fail) throw fail;
  }

  private changes(): { changes: ChangeSummary; next: ReturnType<Program> } {
    const next = this.world.program(this, this.world);
    if (this.deployed?.fingerprint === next.fingerprint) return { changes: { same: next.resources }, next };
    if (!this.deployed) return { changes: { create: next.resources }, next };
    return { changes: { update: 1, same: next.resources - 1 }, next };
  }

  async refresh(opts: { message: string; onOutput: (out: string) => void }): Promise<void> {
    this.call('refresh');
    opts.onOutput('refreshing\n');
  }
  async preview(opts: { message: string; onOutput: (out: string) => void }): Promise<{ changes: ChangeSummary }> {
    this.call('preview');
    const { changes } = this.changes();
    opts.onOutput(`preview: ${JSON.stringify(changes)}\n`);
    return { changes };
  }
  async up(opts: { message: string; onOutput: (out: string) => void }): Promise<{ result: string }> {
    this.call('up');
    const { next } = this.changes();
    opts.onOutput(`Updating (${this.name})\n   + resources ${next.resources}\n`);
    this.deployed = { fingerprint: next.fingerprint, resources: next.resources };
    this.outs = next.outputs;
    this.hist.unshift({ kind: 'update', result: 'succeeded', message: opts.message, config: Object.fromEntries(Object.entries(this.config).map(([k, v]) => [k, { value: v }])) });
    return { result: 'succeeded' };
  }
  async destroy(opts: { message: string; onOutput: (out: string) => void }): Promise<{ result: string }> {
    this.call('destroy');
    opts.onOutput(`Destroying (${this.name})\n`);
    this.deployed = undefined;
    this.outs = {};
    return { result: 'succeeded' };
  }
  async remove(): Promise<void> {
    this.call('remove');
    this.removed = true;
    this.world.stacks.delete(this.name);
  }
  async outputs(): Promise<Record<string, { value: unknown; secret: boolean }>> {
    this.call('outputs');
    return Object.fromEntries(Object.entries(this.outs).map(([k, v]) => [k, { value: v, secret: false }]));
  }
  async getConfig(key: string): Promise<string | undefined> {
    return this.config[key];
  }
  async setConfig(key: string, value: string): Promise<void> {
    this.call(`config-set ${key}=${value}`);
    this.config[key] = value;
  }
  async removeConfig(key: string): Promise<void> {
    this.call(`config-rm ${key}`);
    delete this.config[key];
  }
  async history(): Promise<StackUpdateSummary[]> {
    return this.hist;
  }
  async exportState(): Promise<string> {
    this.call('export');
    return JSON.stringify({ version: 3, deployment: { deployed: this.deployed ?? null, outputs: this.outs, secrets_providers: { type: 'passphrase' }, secret: { ciphertext: this.stateSecret } } }, null, 2);
  }
  async importState(text: string): Promise<void> {
    this.call('import');
    const doc = JSON.parse(text) as { deployment: { deployed: FakeStack['deployed'] | null; outputs: Record<string, unknown>; secret: { ciphertext: string } } };
    this.deployed = doc.deployment.deployed ?? undefined;
    this.outs = doc.deployment.outputs;
    this.stateSecret = doc.deployment.secret.ciphertext;
  }
  async readSettings(): Promise<string | undefined> {
    this.call('read-settings');
    return this.settings;
  }
  async writeSettings(text: string): Promise<void> {
    this.call('write-settings');
    this.settings = text;
  }
}

export class FakeWorld implements AdminDriver {
  readonly stacks = new Map<string, FakeStack>();
  readonly calls: string[] = [];
  /** `op stack` → error thrown when that call happens. */
  readonly fail = new Map<string, Error>();
  constructor(public program: Program) {}

  add(name: string, config: Record<string, string> = {}): FakeStack {
    const s = new FakeStack(name, this);
    s.config = { ...config };
    this.stacks.set(name, s);
    return s;
  }
  async select(name: string): Promise<AdminStack> {
    this.calls.push(`select ${name}`);
    const s = this.stacks.get(name);
    if (!s) throw new Error(`no stack named '${name}' found`);
    return s;
  }
  async selectOrCreate(name: string): Promise<AdminStack> {
    this.calls.push(`select-or-create ${name}`);
    return this.stacks.get(name) ?? this.add(name);
  }
  /** Calls of one kind, e.g. `up`. */
  ops(kind: string): string[] {
    return this.calls.filter((c) => c.startsWith(`${kind} `));
  }
}

/**
 * The DR pair's program: the primary's bucket replication needs the secondary's bucket (an apply with replication on
 * and no peer bucket fails, as the real StackReference.requireOutput would); the secondary needs the primary's DB.
 */
export const drPairProgram: Program = (stack, world) => {
  const isPrimary = stack.name.endsWith('primary');
  const peer = world.stacks.get(isPrimary ? stack.name.replace(/primary$/, 'secondary') : stack.name.replace(/secondary$/, 'primary'));
  if (isPrimary) {
    const replicate = (stack.config['bot-platform-dr:backup.replicateToPeer'] ?? 'true') === 'true';
    const peerBucket = peer?.outs.bucketArn as string | undefined;
    if (replicate && !peerBucket) throw new Error(`Required output 'bucketArn' does not exist on stack '${peer?.name ?? 'secondary'}'`);
    return {
      fingerprint: JSON.stringify({ replicate, peerBucket: replicate ? peerBucket : null }),
      resources: replicate ? 41 : 40,
      outputs: { role: 'primary', region: 'us-east-1', bucketArn: 'arn:aws:s3:::botdr-use1-backups', dbArn: 'arn:aws:rds:us-east-1:123456789012:db:botdr-use1-pg' },
    };
  }
  const sourceDb = peer?.outs.dbArn as string | undefined;
  if (!sourceDb) throw new Error(`Required output 'dbArn' does not exist on stack '${peer?.name ?? 'primary'}'`);
  return { fingerprint: JSON.stringify({ sourceDb }), resources: 38, outputs: { role: 'secondary', region: 'us-west-2', bucketArn: 'arn:aws:s3:::botdr-usw2-backups' } };
};
