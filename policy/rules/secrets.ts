/**
 * Secrets replicated: the secrets the peer region needs after losing this one — the DB master credentials, the bot
 * tokens, the cache AUTH token of a global datastore — are replicated there under a key of that region.
 *
 * Justified exceptions (docs/policy.md): the AUTH token of a standalone cache (no global datastore: the peer's cache
 * is another group with its own token); a scratch drill's throw-away copies; a secondary declares no secrets of its
 * own (it reads the primary's replicas by name). A promoted secondary's adopted secrets are standalone by design
 * after a failover (StopReplicationToReplica) — the advisory `dr-survivor-secrets-standalone` says so until the
 * failback rebuilds the pair.
 */
import type { PolicyResource, ReportViolation, StackValidationArgs } from '@pulumi/policy';
import { homeRegion, inferRole, keysBehind, label, list, read, regionOf, str, TYPES, UNKNOWN } from './model';

/** A cache AUTH-token secret (components/cache.ts names it `<prefix>/redis/<group id>/auth`). */
export function isCacheAuthSecret(r: PolicyResource): boolean {
  const name = str(r.props, 'name');
  return typeof name === 'string' && /\/redis\/[^/]+\/auth$/.test(name);
}

/** Whether a secret has a replica outside `home` under a KMS key (UNKNOWN replicas count when a peer key is behind them). */
function replicatedOutside(s: PolicyResource, home: string | undefined): boolean {
  const replicas = list(s.props, 'replicas');
  if (replicas === UNKNOWN) return keysBehind(s, 'replicas').some((k) => regionOf(k) !== home);
  return replicas.some((r) => {
    const region = read(r, 'region');
    const key = read(r, 'kmsKeyId');
    return (region === UNKNOWN || (typeof region === 'string' && region !== home)) && key !== undefined && key !== '' && key !== null;
  });
}

/** secrets-replicated: on a primary, every secret the peer region needs has a replica there under a key of its own. */
export function secretsReplicated(args: StackValidationArgs, report: ReportViolation): void {
  const role = inferRole(args.resources);
  if (role !== 'primary') return args.notApplicable(`a ${role} stack owns no replicated secrets (see dr-survivor-secrets-standalone for a promoted one)`);
  const home = homeRegion(args.resources);
  const globalDatastore = args.resources.some((r) => r.type === TYPES.globalDatastore);
  for (const s of args.resources.filter((r) => r.type === TYPES.secret)) {
    if (isCacheAuthSecret(s) && !globalDatastore) continue;
    if (!replicatedOutside(s, home)) report(`${label(s)}: must be replicated to the peer region under a KMS key of that region (replicas[].region, replicas[].kmsKeyId).`, s.urn);
  }
}

/** dr-survivor-secrets-standalone (advisory): a promoted secondary's secrets have no copy in another region. */
export function drSurvivorSecretsStandalone(args: StackValidationArgs, report: ReportViolation): void {
  if (inferRole(args.resources) !== 'promoted') return args.notApplicable('only a promoted secondary');
  const home = homeRegion(args.resources);
  for (const s of args.resources.filter((r) => r.type === TYPES.secret)) {
    if (!replicatedOutside(s, home)) report(`${label(s)}: standalone since the failover — no copy outside ${home} until \`dr failback\` rebuilds the pair.`, s.urn);
  }
}
