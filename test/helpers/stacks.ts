/** Shared fixtures for infra tests: run the real program for a role under mocks. */
import * as path from 'node:path';
import { buildStack } from '../../components/regional-dr';
import { mapConfigSource } from '../../lib/config';
import { loadStackFile, ProgramRun, RunOptions, runProgram } from './pulumi';
import { captureRegistrations, Registration } from './registrations';

export const P = 'bot-platform-dr';
export const ROOT = path.join(__dirname, '..', '..');

/** Outputs of a deployed primary, as the secondary's StackReference sees them. */
export const PRIMARY_OUTPUTS = {
  role: 'primary',
  region: 'us-east-1',
  dbArn: 'arn:aws:rds:us-east-1:123456789012:db:botdr-use1-pg',
  dbSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:botdr/db/master-AbCdEf',
  kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/primary-key',
  bucketArn: 'arn:aws:s3:::botdr-use1-backups20240101',
  globalDatastoreId: 'ldgnf-botdr-redis-global',
  cacheAuthSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:botdr/redis/botdr-use1-redis/auth-AbCdEf',
};

/** Outputs of a deployed secondary, as the primary's StackReference sees them. */
export const SECONDARY_OUTPUTS = {
  role: 'secondary',
  region: 'us-west-2',
  dbArn: 'arn:aws:rds:us-west-2:123456789012:db:botdr-usw2-pg',
  kmsKeyArn: 'arn:aws:kms:us-west-2:123456789012:key/secondary-key',
  bucketArn: 'arn:aws:s3:::botdr-usw2-backups20240101',
  // A member outputs the datastore it joined and its replicas of the primary's secrets (same names).
  globalDatastoreId: 'ldgnf-botdr-redis-global',
  cacheAuthSecretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:botdr/redis/botdr-use1-redis/auth-AbCdEf',
  dbSecretArn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:botdr/db/master-AbCdEf',
};

export const STACK_REFS = {
  'acme/bot-platform-dr/primary': PRIMARY_OUTPUTS,
  'acme/bot-platform-dr/secondary': SECONDARY_OUTPUTS,
};

export interface RoleRun extends ProgramRun {
  /** The mock secret values that stood in for `secure:` config. */
  secretValues: string[];
  /** Resource options and dependencies of every registration (ignoreChanges, retainOnDelete, ...). */
  regs: Registration[];
}

/**
 * Run the program with a committed stack file (`primary` | `secondary`) and optional overrides
 * (full keys; `undefined` removes a key). `scratch` starts from the primary file. `extra.stackRefs` replaces the
 * peer outputs ({@link STACK_REFS}), e.g. with a survivor's after a failover.
 */
export async function runStack(stack: 'primary' | 'secondary' | 'scratch', overrides: Record<string, unknown> = {}, extra: Pick<RunOptions, 'calls' | 'state' | 'stackRefs'> = {}): Promise<RoleRun> {
  const file = loadStackFile(path.join(ROOT, `Pulumi.${stack === 'scratch' ? 'primary' : stack}.yaml`));
  const config: Record<string, unknown> = { ...file.config };
  if (stack === 'scratch') {
    Object.assign(config, {
      [`${P}:role`]: 'scratch',
      [`${P}:cache`]: { nodeType: 'cache.t4g.small', replicas: 0 },
      [`${P}:scratch`]: { restoreFrom: 'latest-snapshot', sourceDbIdentifier: 'botdr-use1-pg' },
    });
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete config[k];
    else config[k] = v;
  }
  let regs: Registration[] = [];
  const run = await runProgram(
    () => {
      regs = captureRegistrations();
      return { ...buildStack(mapConfigSource(config)) };
    },
    { config, secretKeys: file.secretKeys, stackRefs: STACK_REFS, stack, ...extra },
  );
  return { ...run, secretValues: file.secretValues, regs };
}

/** Parse a JSON policy input (string or object). */
export function policyOf(v: unknown): { Statement: any[] } {
  return typeof v === 'string' ? JSON.parse(v) : (v as { Statement: any[] });
}
