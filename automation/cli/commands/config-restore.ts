/**
 * `dr restore config`: verify a stack's config backup against its sha256 manifest, then restore its settings file
 * and import its state. Refuses on any mismatch before touching the stack. Logic in automation/ops/config-backup.ts.
 *
 * Issue 11: when the backup holds the bots' channel-rights matrix, the live matrix is checked and the difference is
 * printed (cells whose verdict or missing rights changed since the backup). Nothing is corrected: rights are granted
 * by an admin. The live check failing is a warning, never a failed restore; `--skip-permissions` skips it.
 */
import { restoreConfig, validateStackName, type ConfigRestoreResult } from '../../ops/config-backup';
import { formatMatrixDiff } from '../../ops/bot-permissions';
import { diffPermissionMatrices, type MatrixDiff } from '../../tokens';
import { AWS_STACK_FLAGS } from '../aws';
import { Command, CommandContext, JSON_FLAG } from '../command';
import { errorSummary, OperationError, RefusedError } from '../../core/errors';
import { CONFIG_PERMISSION_FLAGS, configDeps, parseBucketFlag } from './config-backup';
import { projectDir, stackDeps } from './deploy';

/** The saved matrix against the live one, or why there is no comparison. */
async function rightsDiff(ctx: CommandContext, r: ConfigRestoreResult): Promise<{ diff?: MatrixDiff; note: string }> {
  if (r.permissions_error) return { note: `the saved channel-rights matrix is unreadable: ${r.permissions_error}` };
  if (!r.permissions) return { note: 'this backup holds no channel-rights matrix' };
  if (ctx.flags.bool('skip-permissions')) return { note: 'the live channel rights were not checked (--skip-permissions)' };
  try {
    const diff = diffPermissionMatrices(r.permissions, (await configDeps.permissions(ctx)).matrix);
    return { diff, note: formatMatrixDiff(diff) };
  } catch (err) {
    return { note: `the live channel rights could not be checked: ${errorSummary(err)}` };
  }
}

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
    'primary-stack': AWS_STACK_FLAGS['primary-stack'],
    'secondary-stack': AWS_STACK_FLAGS['secondary-stack'],
    ...CONFIG_PERMISSION_FLAGS,
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
    const rights = await rightsDiff(ctx, result);
    const { permissions: saved, ...rest } = result;
    ctx.out.result(
      { ok: true, ...rest, permissions: { saved: saved !== undefined, ...(saved ? { checked_at: saved.checked_at } : {}), ...(rights.diff ? { diff: rights.diff } : {}), note: rights.note } },
      `${result.imported ? 'restored' : 'verified'} ${result.stack} config ${result.version} from ${result.location}: ${result.verified.map((f) => `${f.name} sha256:${f.sha256.slice(0, 12)}…`).join(', ')}\n${rights.note}`,
    );
    return 0;
  },
};
