/**
 * `dr backup config`: both stacks' exported state and settings (secrets stay ciphertext) to both regions' backup
 * buckets under `config/<stack>/<version>/`, with a sha256 manifest. Logic in automation/ops/config-backup.ts.
 */
import { plainOutputs } from '../../adapters/aws/topology';
import { S3Store } from '../../adapters/aws/s3-store';
import { backupConfig, NamedStore, validateStackName } from '../../ops/config-backup';
import { ObjectStore } from '../../backup/index';
import { Command, CommandContext, JSON_FLAG } from '../command';
import { FlagError, UsageError } from '../../core/errors';
import { projectDir, STACK_FLAGS, stackDeps } from './deploy';
import { AdminDriver } from '../../adapters/aws/stacks';

/** How config commands reach a bucket; tests replace it with an in-memory or s3rver store. */
export const configDeps: { store: (bucket: string, region: string | undefined, env: Record<string, string | undefined>) => ObjectStore } = {
  store: (bucket, region, env) => new S3Store({ bucket, region, env }),
};

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
    ...JSON_FLAG,
  },
  async run(ctx) {
    const stacks = ctx.flags.list('stack').length ? ctx.flags.list('stack') : [ctx.flags.required('primary-stack'), ctx.flags.required('secondary-stack')];
    stacks.forEach((s) => validateStackName(s));
    ctx.flags.list('bucket').forEach(parseBucketFlag);
    const driver = stackDeps.driver(projectDir(ctx), ctx.env);
    const stores = await configStores(ctx, driver, stacks);
    const result = await backupConfig({ driver, stacks, stores, now: new Date(), log: (l) => ctx.out.info(l) });
    const human = [
      `config backup ${result.version}: ${result.ok ? 'OK' : 'INCOMPLETE'}`,
      ...result.stacks.flatMap((s) => [`  ${s.stack}: ${s.files.map((f) => `${f.name} sha256:${f.sha256.slice(0, 12)}…`).join(', ')}`, ...s.locations.map((l) => `    ${l.ok ? 'ok    ' : 'FAILED'} ${l.location}${l.error ? `: ${l.error}` : ''}`)]),
    ].join('\n');
    ctx.out.result(result, human);
    return result.ok ? 0 : 1;
  },
};
