/**
 * `dr restore config`: verify a stack's config backup against its sha256 manifest, then restore its settings file
 * and import its state. Refuses on any mismatch before touching the stack. Logic in automation/ops/config-backup.ts.
 */
import { restoreConfig, validateStackName } from '../../ops/config-backup';
import { Command, JSON_FLAG } from '../command';
import { OperationError, RefusedError } from '../../core/errors';
import { configDeps, parseBucketFlag } from './config-backup';
import { projectDir, stackDeps } from './deploy';

const notNeeded = async (): Promise<never> => {
  throw new OperationError('internal: --verify-only must not touch a stack');
};

export const command: Command = {
  name: 'restore config',
  summary: "verify a stack's config backup (sha256) and import it: settings file + state",
  flags: {
    stack: { type: 'string', description: 'stack to restore (name or org/project/stack)', env: 'DR_STACK' },
    bucket: { type: 'string', description: 'bucket holding the backup, NAME or NAME@REGION', env: 'DR_BACKUP_BUCKET' },
    from: { type: 'string', description: 'latest or a version YYYYMMDD_HHMMSS', default: 'latest' },
    'verify-only': { type: 'boolean', description: 'verify the checksums, import nothing' },
    yes: { type: 'boolean', description: 'import without asking (replaces the stack state)' },
    'work-dir': { type: 'string', description: 'Pulumi project directory (holds Pulumi.yaml)', env: 'DR_WORK_DIR' },
    ...JSON_FLAG,
  },
  async run(ctx) {
    const stack = validateStackName(ctx.flags.required('stack', 'or set DR_STACK'));
    const { bucket, region } = parseBucketFlag(ctx.flags.required('bucket', 'or set DR_BACKUP_BUCKET'));
    const verifyOnly = ctx.flags.bool('verify-only');
    if (!verifyOnly && !ctx.flags.bool('yes')) {
      const ok = await ctx.out.confirm(`Replace the state and settings of stack ${stack} with the backup?`);
      if (!ok) throw new RefusedError('not confirmed: pass --yes to import without a terminal, or --verify-only to check the backup');
    }
    const result = await restoreConfig({
      // --verify-only reads the bucket only: no Pulumi project or backend needed.
      driver: verifyOnly ? { select: notNeeded, selectOrCreate: notNeeded } : stackDeps.driver(projectDir(ctx), ctx.env),
      stack,
      store: configDeps.store(bucket, region, ctx.env),
      from: ctx.flags.string('from'),
      verifyOnly,
      log: (l) => ctx.out.info(l),
    });
    ctx.out.result(
      { ok: true, ...result },
      `${result.imported ? 'restored' : 'verified'} ${result.stack} config ${result.version} from ${result.location}: ${result.verified.map((f) => `${f.name} sha256:${f.sha256.slice(0, 12)}…`).join(', ')}`,
    );
    return 0;
  },
};
