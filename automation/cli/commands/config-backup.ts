/**
 * `dr backup config`: both stacks' exported state and settings (secrets stay ciphertext) to both regions' backup
 * buckets under `config/<stack>/<version>/`, with a sha256 manifest. Logic in automation/ops/config-backup.ts.
 *
 * Issue 11 (seed 000 AC4): the bots' channel-rights matrix (`dr bots check-permissions`: bot, token index, channel,
 * verdict, missing rights — never a token) is checked live and saved beside each stack as `permissions.json`. A
 * check that cannot run (no settings file, the platforms down) is a warning: the state and settings are still
 * backed up. `--skip-permissions` leaves it out.
 */
import { plainOutputs } from '../../adapters/aws/topology';
import { S3Store } from '../../adapters/aws/s3-store';
import { backupConfig, NamedStore, validateStackName } from '../../ops/config-backup';
import { ObjectStore } from '../../backup/index';
import { Command, CommandContext, JSON_FLAG } from '../command';
import { FlagError, UsageError } from '../../core/errors';
import { projectDir, STACK_FLAGS, stackDeps } from './deploy';
import { AdminDriver } from '../../adapters/aws/stacks';
import { errorSummary } from '../../core/errors';
import { PERMISSIONS_FILE, type ExtraConfigFile } from '../../ops/config-backup';
import type { PermissionReport } from '../../ops/bot-permissions';
import { matrixCounts } from '../../tokens';
import { BOTS_TARGET_FLAGS, liveMatrix } from './bots';
import { TOKEN_API_FLAGS } from './tokens-target';

/** How config commands reach a bucket and the live rights matrix; tests replace them. */
export const configDeps: {
  store: (bucket: string, region: string | undefined, env: Record<string, string | undefined>) => ObjectStore;
  permissions: (ctx: CommandContext) => Promise<PermissionReport & { where: string }>;
} = {
  store: (bucket, region, env) => new S3Store({ bucket, region, env }),
  permissions: (ctx) => liveMatrix(ctx),
};

/** The rights-matrix flags of `dr backup config` / `dr restore config` (the AWS bots target, without --local). */
export const CONFIG_PERMISSION_FLAGS = {
  'skip-permissions': { type: 'boolean' as const, description: "leave the bots' channel-rights matrix out (it is checked live: every token of every bot in every configured channel)" },
  'outputs-dir': BOTS_TARGET_FLAGS['outputs-dir'],
  region: BOTS_TARGET_FLAGS.region,
  ...TOKEN_API_FLAGS,
};

/** What happened to the matrix in this run. */
export interface PermissionsOutcome {
  saved: boolean;
  checked_at?: string;
  cells?: number;
  missing?: number;
  error?: string;
}

/** The live matrix as a file to save, or why there is none (never fatal). */
async function matrixFile(ctx: CommandContext): Promise<{ file?: ExtraConfigFile; outcome: PermissionsOutcome }> {
  if (ctx.flags.bool('skip-permissions')) return { outcome: { saved: false, error: 'skipped (--skip-permissions)' } };
  try {
    const r = await configDeps.permissions(ctx);
    const c = matrixCounts(r.matrix);
    return { file: { name: PERMISSIONS_FILE, body: JSON.stringify(r.matrix, null, 2), contentType: 'application/json' }, outcome: { saved: true, checked_at: r.matrix.checked_at, cells: c.cells, missing: c.missing } };
  } catch (err) {
    return { outcome: { saved: false, error: errorSummary(err) } };
  }
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `name` or `name@region` → bucket and region. */
export function parseBucketFlag(value: string): { bucket: string; region?: string } {
  const [bucket, region] = value.split('@');
  if (!BUCKET.test(bucket)) throw new FlagError(`--bucket '${bucket}' is not a valid S3 bucket name (3-63 of a-z 0-9 . -)`);
  if (region !== undefined && !/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region)) throw new FlagError(`--bucket ${value}: '${region}' is not an AWS region`);
  return { bucket, region };
}

/** The stores to write to: --bucket flags, or each stack's `bucketName` output in its region. */
export async function configStores(ctx: CommandContext, driver: AdminDriver, stacks: string[]): Promise<NamedStore[]> {
  const flags = ctx.flags.list('bucket').map(parseBucketFlag);
  if (flags.length) return flags.map((b) => ({ name: b.region ?? 'bucket', store: configDeps.store(b.bucket, b.region, ctx.env) }));
  const out: NamedStore[] = [];
  for (const name of stacks) {
    const outs = plainOutputs(await (await driver.select(name)).outputs());
    const bucket = outs.bucketName;
    const region = outs.region;
    if (typeof bucket !== 'string' || !bucket) throw new UsageError(`stack ${name} has no bucketName output: deploy it first or give --bucket`);
    out.push({ name: typeof region === 'string' ? region : name, store: configDeps.store(bucket, typeof region === 'string' ? region : undefined, ctx.env) });
  }
  return out;
}

export const command: Command = {
  name: 'backup config',
  summary: "back up the stacks' state and config (secrets stay encrypted) to both regions' buckets with a sha256 manifest",
  flags: {
    ...STACK_FLAGS,
    stack: { type: 'string', multiple: true, description: 'stack to back up (repeatable; default: the primary and secondary stacks)' },
    bucket: { type: 'string', multiple: true, description: "bucket to write to, NAME or NAME@REGION (repeatable; default: each stack's backup bucket)" },
    ...CONFIG_PERMISSION_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    const stacks = ctx.flags.list('stack').length ? ctx.flags.list('stack') : [ctx.flags.required('primary-stack'), ctx.flags.required('secondary-stack')];
    stacks.forEach((s) => validateStackName(s));
    ctx.flags.list('bucket').forEach(parseBucketFlag);
    const driver = stackDeps.driver(projectDir(ctx), ctx.env);
    const stores = await configStores(ctx, driver, stacks);
    const rights = await matrixFile(ctx);
    if (!rights.outcome.saved && !ctx.flags.bool('skip-permissions')) ctx.out.warn(`the bots' channel rights are not in this backup: ${rights.outcome.error}`);
    const backup = await backupConfig({ driver, stacks, stores, now: new Date(), ...(rights.file ? { extraFiles: [rights.file] } : {}), log: (l) => ctx.out.info(l) });
    const result = { ...backup, permissions: rights.outcome };
    const human = [
      `config backup ${result.version}: ${result.ok ? 'OK' : 'INCOMPLETE'}`,
      `  channel rights: ${rights.outcome.saved ? `saved (${rights.outcome.cells} cell(s), ${rights.outcome.missing} missing, checked ${rights.outcome.checked_at})` : `not saved (${rights.outcome.error})`}`,
      ...result.stacks.flatMap((s) => [`  ${s.stack}: ${s.files.map((f) => `${f.name} sha256:${f.sha256.slice(0, 12)}…`).join(', ')}`, ...s.locations.map((l) => `    ${l.ok ? 'ok    ' : 'FAILED'} ${l.location}${l.error ? `: ${l.error}` : ''}`)]),
    ].join('\n');
    ctx.out.result(result, human);
    return result.ok ? 0 : 1;
  },
};
