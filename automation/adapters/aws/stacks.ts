/**
 * StacksPort over the Pulumi Automation API, behind a tiny {@link StackDriver} interface so tests use a fake
 * workspace. Only `automation.ts` imports `@pulumi/pulumi/automation`.
 *
 * What the failover changes in the stacks (config keys from lib/config.ts; {@link retargetChanges}):
 * - a database-moving incident (datacenter, database): the survivor — a `secondary` stack — gets
 *   `bot-platform-dr:database.promoted = true` (lib/config.ts allows `promoted` on secondary stacks only; the
 *   Database component then drops `replicateSourceDb`). The promotion itself already happened directly (RDS
 *   `PromoteReadReplica` in the promote-database step, traffic first), so ONE apply, with `refresh` (the state must
 *   learn that the instance is no longer a replica, or the provider would try to promote it again) and without
 *   rebuilding the job image (a targeted up: lib/reconcile.ts), makes the stack say what the world is. The lost stack gets
 *   `role = secondary` and `database.promoted = false`, so a later
 *   `up` there (failback) rebuilds it as a replica of the survivor. Its `up` is never run during a failover.
 * - a datacenter incident whose cache had to LEAVE the global datastore (unplanned, the failover API refused:
 *   `Retarget.cacheLeft`): the stacks move to the next datastore generation (lib/naming.ts). The survivor gets
 *   `cache.globalDatastoreGeneration = n + 1` and, when it is a `secondary` stack (its group was created as a member),
 *   `cache.detached = true`: its program declares the same group standalone and a new `GlobalReplicationGroup` from
 *   it, created by the same targeted apply. The lost stack gets the same generation and `cache.detached = false`
 *   (config only): at failback it rejoins as a member of the survivor's datastore (ops/failback-cache.ts removes the
 *   old datastore first).
 * - a cache incident: no stack config describes which member of the global datastore is primary, so nothing is
 *   set (and the step log says so). If the cache had to leave the datastore there, the stacks are NOT moved to a new
 *   generation (the lost region still serves the database as a primary stack): the step log says what is left to do.
 *
 * Check-then-act: the lost stack's check is its config; the survivor's check is its UPDATE HISTORY — the last
 * `update` succeeded with the wanted config. So a crash between
 * `config set` and the end of `up` is redone on rerun, and a finished retarget is never applied again.
 *
 * On a concurrent update (`ConcurrentUpdateError`) the call waits and retries with a bound
 * ({@link STACK_RETRY}); it never cancels another update.
 */

import * as path from 'node:path';
import { errorSummary, OperationError, UsageError } from '../../core/errors';
import { redact } from '../../core/redact';
import { type CallOptions, incidentMoves, type Retarget, type StacksPort } from '../../failover/index';
import { STACK_RETRY, isConcurrentUpdate, withRetry } from './retry';
import { systemClock, type Clock } from '../../core/clock';
import { RECONCILE_TARGET_TYPES, reconcileTargets } from '../../../lib/reconcile';
import { globalDatastoreGeneration } from '../../../lib/naming';

export const PROJECT_NS = 'bot-platform-dr';
export const CONFIG_KEYS = {
  role: `${PROJECT_NS}:role`,
  promoted: `${PROJECT_NS}:database.promoted`,
  cacheGeneration: `${PROJECT_NS}:cache.globalDatastoreGeneration`,
  cacheDetached: `${PROJECT_NS}:cache.detached`,
} as const;

/** One update of a stack, as `pulumi stack history` reports it. */
export interface StackUpdateSummary {
  kind: string;
  /** `succeeded` | `failed` | `in-progress`. */
  result: string;
  message?: string;
  /** Config used for that update: full key → value (structured keys hold a JSON object). */
  config: Record<string, { value: string; secret?: boolean }>;
}

/** What `up` is asked to do (a subset of the Automation API's `UpOptions`). */
export interface UpRequest {
  message: string;
  onOutput: (out: string) => void;
  /** Refresh before the update (`--refresh`): the failover changed the world behind the state. */
  refresh?: boolean;
  /** Only these URN patterns (`--target`), and their dependents (`--target-dependents`): lib/reconcile.ts. */
  target?: string[];
}

/** The few things the failover does with one stack (a subset of the Automation API's `Stack`). */
export interface StackLike {
  readonly name: string;
  refresh(opts: { message: string; onOutput: (out: string) => void }): Promise<void>;
  up(opts: UpRequest): Promise<{ result: string }>;
  /** Outputs as the Automation API returns them. */
  outputs(): Promise<Record<string, { value: unknown; secret: boolean }>>;
  /** Value of `key` (with `path`, a `--path` key like `bot-platform-dr:database.promoted`); undefined when unset. */
  getConfig(key: string, path: boolean): Promise<string | undefined>;
  setConfig(key: string, value: string, path: boolean): Promise<void>;
  /** Latest updates first. */
  history(pageSize: number): Promise<StackUpdateSummary[]>;
}

/** Selects stacks of this project (a `LocalWorkspace` over the project dir in production). */
export interface StackDriver {
  /** Select an existing stack; throws when it does not exist or the backend does not answer. */
  select(stackName: string): Promise<StackLike>;
}

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


/** One config change on one stack. */
export interface StackConfigChange {
  stack: string;
  region: string;
  /** Full key (`--path` form) → value. */
  set: Record<string, string>;
  /** Whether `up` must apply it now (the survivor) or it is recorded for later (the lost region). */
  apply: boolean;
  /** Successful applies with this config the survivor needs (1: the promotion happened directly, the stack follows). */
  applies: number;
}

export interface AwsStacksOptions {
  driver: StackDriver;
  /** Region → stack name. */
  stacks: Record<string, string>;
  /** Region → the stack's `role` output/config as last seen (`primary`/`secondary`). */
  roles: Record<string, string>;
  clock?: Clock;
  retry?: Partial<{ attempts: number; baseDelayMs: number; maxDelayMs: number }>;
  /** How many history entries to inspect for the check (default 20). */
  historyDepth?: number;
  /**
   * Set when the stacks cannot be used now ({@link probeStacks} found the Pulumi backend unreachable): the engine
   * skips the refresh and keeps the `reconcile` step pending (traffic moves anyway).
   */
  unavailable?: string;
}

/** Pure: the config each stack gets for a retarget. */
export function retargetChanges(change: Retarget, stacks: Record<string, string>, roles: Record<string, string>): StackConfigChange[] {
  const survivor = stacks[change.survivor];
  const lost = stacks[change.lost];
  if (!survivor) throw new UsageError(`no stack is known for the surviving region ${change.survivor}`);
  if (!lost) throw new UsageError(`no stack is known for the lost region ${change.lost}`);
  const moves = incidentMoves(change.incident);
  if (!moves.database) return [];
  const out: StackConfigChange[] = [];
  const survivorIsPrimary = roles[change.survivor] === 'primary';
  const cache = change.cacheLeft ? nextGeneration(change.cacheLeft, survivorIsPrimary) : undefined;
  // A survivor that is already a `primary` stack serves by definition: nothing to promote in its config.
  const survivorSet = { ...(survivorIsPrimary ? {} : { [CONFIG_KEYS.promoted]: 'true' }), ...cache?.survivor };
  if (Object.keys(survivorSet).length) out.push({ stack: survivor, region: change.survivor, set: survivorSet, apply: true, applies: 1 });
  out.push({ stack: lost, region: change.lost, set: { [CONFIG_KEYS.role]: 'secondary', [CONFIG_KEYS.promoted]: 'false', ...cache?.lost }, apply: false, applies: 0 });
  return out;
}

/**
 * Pure: the cache config after the survivor's group left the global datastore `left`: generation n + 1 on both stacks;
 * a `secondary` survivor (its group was created as a member) is detached and leads it, a `primary` survivor's own
 * datastore simply takes the next suffix; the lost stack rejoins as a member (never detached).
 */
export function nextGeneration(left: string, survivorIsPrimary: boolean): { generation: number; survivor: Record<string, string>; lost: Record<string, string> } {
  const generation = globalDatastoreGeneration(left) + 1;
  const g = { [CONFIG_KEYS.cacheGeneration]: String(generation) };
  return { generation, survivor: { ...g, ...(survivorIsPrimary ? {} : { [CONFIG_KEYS.cacheDetached]: 'true' }) }, lost: { ...g, [CONFIG_KEYS.cacheDetached]: 'false' } };
}

/**
 * What a cache-only incident whose cache had to leave the global datastore leaves to people: the stacks are not moved
 * to a new generation (the lost region still runs the database as the primary stack, and its stack still declares the
 * old datastore). Nothing breaks meanwhile — the survivor's stack still declares its group as the member it was, and
 * the provider keeps the datastore id it last read, so an `up` changes nothing — but the cache has no cross-region
 * copy until the pair is rebuilt.
 */
export function cacheOnlyDetachedNote(change: Retarget, survivorStack: string): string {
  return (
    `stacks: WARNING the cache in ${change.survivor} (${survivorStack}) left the global datastore ${change.cacheLeft} and serves standalone, without a cross-region copy. ` +
    `A cache-only incident does not move the stacks to a new datastore (the database stays where it is): rebuild the cache pair by hand ` +
    `(docs/infra-notes.md "Cache after an unplanned failover"); a pulumi up of either stack changes nothing meanwhile`
  );
}

/** The bot list in stack config (lib/config.ts): not secret, declared on both stacks. */
export const BOTS_CONFIG_KEY = `${PROJECT_NS}:bots`;

/**
 * Pure: what the record step says about the bot-token secrets after a failover (docs/infra-notes.md "Bot tokens").
 * There is no hand-over: the survivor declares the same (non-secret) bot list, so the apply that promotes it also
 * adopts the promoted replicas in its region by name (Pulumi `import`; no token value, the value is the token
 * engine's) and its token monitor starts acting there. Only a survivor that declares no bots needs a person — and
 * then only a copy of the non-secret list, never a token.
 */
export function botOwnershipNote(survivorStack: string, lostStack: string, survivorRegion: string, survivorDeclaresBots: boolean): string {
  if (survivorDeclaresBots) {
    return (
      `bot tokens: no hand-over needed: ${survivorStack} declares the bots, so its promotion apply adopts the bot-token secrets in ${survivorRegion} by name ` +
      `(Pulumi import, no token value: the token engine owns the values) and its token monitor acts there now; ${lostStack} keeps its botTokens seeds ` +
      `in config until dr failback (which asks to remove them; its copies are retained, never deleted)`
    );
  }
  return (
    `bot tokens: WARNING ${survivorStack} declares no bots: no stack owns the promoted bot-token secrets in ${survivorRegion} and no token monitor acts there. ` +
    `Declare the non-secret bot list on it (pulumi config cp bots -s ${lostStack} -d ${survivorStack}) and pulumi up -s ${survivorStack}: it adopts them by name; no token value is needed`
  );
}

/** The value of a `--path` key in an update's config map (flat key, or inside the structured top-level key). */
export function configValueIn(config: StackUpdateSummary['config'], key: string): string | undefined {
  if (config[key]) return config[key].value;
  const colon = key.indexOf(':');
  const [top, ...path] = key.slice(colon + 1).split('.');
  const root = config[`${key.slice(0, colon)}:${top}`];
  if (!root || path.length === 0) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(root.value);
  } catch {
    return undefined;
  }
  for (const p of path) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
}

export class AwsStacks implements StacksPort {
  readonly unavailable = undefined;
  /** The Pulumi backend does not answer now ({@link probeStacks}): the reconcile is owed, not skipped. */
  readonly unreachable: string | undefined;
  private readonly clock: Clock;
  private readonly retry: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  private readonly selected = new Map<string, StackLike>();

  constructor(private readonly opts: AwsStacksOptions) {
    this.clock = opts.clock ?? systemClock;
    this.retry = { ...STACK_RETRY, ...opts.retry };
    this.unreachable = opts.unavailable;
  }

  stackOf(region: string): string {
    const s = this.opts.stacks[region];
    if (!s) throw new UsageError(`no stack is known for region ${region} (known: ${Object.keys(this.opts.stacks).join(', ')})`);
    return s;
  }

  private async select(name: string): Promise<StackLike> {
    const known = this.selected.get(name);
    if (known) return known;
    const s = await this.opts.driver.select(name);
    this.selected.set(name, s);
    return s;
  }

  /** Run a stack operation; on a concurrent update wait and retry (bounded); never cancel the other update. */
  private busyRetry<T>(what: string, fn: () => Promise<T>, opts?: CallOptions): Promise<T> {
    return withRetry(() => fn(), {
      ...this.retry,
      retryable: isConcurrentUpdate,
      clock: this.clock,
      signal: opts?.signal,
      log: (l) => opts?.log?.(redact(`${l} (another update is running; it is never cancelled)`)),
      what,
    }).catch((err: unknown) => {
      if (isConcurrentUpdate(err)) throw new OperationError(`${what}: another update of the stack is still running after ${this.retry.attempts} attempts; wait for it to finish (it is never cancelled) and rerun`);
      throw err;
    });
  }

  private lines(prefix: string, opts?: CallOptions): (out: string) => void {
    let buf = '';
    return (out: string) => {
      buf += out;
      const parts = buf.split(/\r?\n/);
      buf = parts.pop() ?? '';
      for (const l of parts) if (l.trim()) opts?.log?.(redact(`${prefix} ${l}`));
    };
  }

  private changes(change: Retarget): StackConfigChange[] {
    return retargetChanges(change, this.opts.stacks, this.opts.roles);
  }

  /** Successful updates with `set` applied, counted from the newest until one without it (or a failed one). */
  private async appliedCount(stack: StackLike, set: Record<string, string>): Promise<number> {
    const hist = (await stack.history(this.opts.historyDepth ?? 20)).filter((h) => h.kind === 'update');
    let n = 0;
    for (const h of hist) {
      if (h.result === 'in-progress') continue;
      if (h.result !== 'succeeded') break;
      if (!Object.entries(set).every(([k, v]) => configValueIn(h.config, k) === v)) break;
      n++;
    }
    return n;
  }

  private async configSays(stack: StackLike, set: Record<string, string>): Promise<boolean> {
    for (const [k, v] of Object.entries(set)) if ((await stack.getConfig(k, true)) !== v) return false;
    return true;
  }

  async isRetargeted(change: Retarget, opts?: CallOptions): Promise<boolean> {
    const changes = this.changes(change);
    if (!changes.length) {
      opts?.log?.(`stacks: a ${change.incident} incident changes no stack config (no config key records which global-datastore member is primary)`);
      if (change.cacheLeft) opts?.log?.(cacheOnlyDetachedNote(change, this.stackOf(change.survivor)));
      return true;
    }
    for (const c of changes) {
      const stack = await this.select(c.stack);
      if (!(await this.configSays(stack, c.set))) return false;
      if (c.apply && (await this.appliedCount(stack, c.set)) < c.applies) return false;
    }
    return true;
  }

  async retarget(change: Retarget, opts?: CallOptions): Promise<void> {
    for (const c of this.changes(change)) {
      const stack = await this.select(c.stack);
      await this.ensureConfig(stack, c, opts);
      if (c.apply) await this.ensureApplied(stack, c, `dr failover ${change.id}: ${change.survivor} serves (${change.incident}), ${change.lost} lost`, opts);
      else {
        opts?.log?.(`stack ${c.stack}: config recorded (${describe(c.set)}); its update runs at failback, when ${c.region} is back`);
        const survivor = this.opts.stacks[change.survivor];
        if (survivor) {
          const declares = (await (await this.select(survivor)).getConfig(BOTS_CONFIG_KEY, false)) !== undefined;
          opts?.log?.(botOwnershipNote(survivor, c.stack, change.survivor, declares));
        }
      }
    }
  }

  private async ensureConfig(stack: StackLike, c: StackConfigChange, opts?: CallOptions): Promise<void> {
    for (const [k, v] of Object.entries(c.set)) {
      if ((await stack.getConfig(k, true)) === v) continue;
      await stack.setConfig(k, v, true);
      opts?.log?.(`stack ${c.stack}: config ${k} = ${v}`);
    }
  }

  private async ensureApplied(stack: StackLike, c: StackConfigChange, message: string, opts?: CallOptions): Promise<void> {
    let done = await this.appliedCount(stack, c.set);
    while (done < c.applies) {
      opts?.log?.(`stack ${c.stack}: pulumi up --refresh, targeted at what a promotion changes (${RECONCILE_TARGET_TYPES.join(', ')}) and their dependents; the job image is left as it is`);
      if (opts?.signal?.aborted) throw new OperationError(`interrupted before pulumi up on ${c.stack}`);
      const r = await this.busyRetry(`pulumi up ${c.stack}`, () => stack.up({ message, onOutput: this.lines(`[${c.stack} up]`, opts), refresh: true, target: reconcileTargets() }), opts);
      if (r.result !== 'succeeded') throw new OperationError(`pulumi up on ${c.stack} ended ${r.result}`);
      const now = await this.appliedCount(stack, c.set);
      // A backend whose history lags behind is tolerated by counting our own successful applies.
      done = Math.max(now, done + 1);
    }
  }
}

/**
 * Can the stacks be used right now? Selects each (a backend round trip). Resolves undefined when they can, or the
 * reason text for {@link AwsStacksOptions.unavailable} — which also tells the operator what the failover will NOT
 * record in the stacks, so a later `pulumi up` does not undo it.
 */
export async function probeStacks(driver: StackDriver, stacks: { survivor: string; lost: string }): Promise<string | undefined> {
  try {
    await driver.select(stacks.survivor);
    return undefined;
  } catch (err) {
    return redact(
      `the Pulumi backend does not answer for ${stacks.survivor} (${errorSummary(err)}): traffic moves anyway, and the stacks are re-targeted by 'dr failover --resume' once the backend answers. Until then, no \`pulumi up\`: it would undo the failover (or set ${CONFIG_KEYS.promoted}=true on ${stacks.survivor} and ${CONFIG_KEYS.role}=secondary, ${CONFIG_KEYS.promoted}=false on ${stacks.lost} by hand)`,
    );
  }
}

function describe(set: Record<string, string>): string {
  return Object.entries(set)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

export { errorSummary };
