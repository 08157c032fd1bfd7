/**
 * `dr drill --stack scratch`: the quarterly restore drill on AWS.
 *
 *   1. create a scratch stack (role `scratch`) in the source's region whose database restores the latest snapshot of
 *      the source instance, or a point in time;
 *   2. `pulumi up` it — the restore time is measured around this update (RDS restore + cache + network);
 *   3. verify it with `dr verify --full` logic against the restored endpoint (injected {@link ScratchVerifier});
 *   4. destroy it and remove the stack — ALWAYS, in a finally, even when create/up/verify failed or was interrupted;
 *   5. store the report (JSON) in the source's backup bucket under `drills/<id>/report.json`, also on failure.
 *
 * The report never carries a secret: the verifier reads credentials itself and registers them for redaction.
 */
import { errorSummary, FlagError, OperationError, UsageError } from '../core/errors';
import { redact } from '../core/redact';
import { type CheckResult, type ObjectStore, stampOf } from '../backup/index';
import { plainOutputs } from '../adapters/aws/topology';
import { systemClock, type Clock } from '../core/clock';
import { AdminDriver } from '../adapters/aws/stacks';

export const DRILL_PREFIX = 'drills/';
const NS = 'bot-platform-dr';

export type RestorePoint = { from: 'latest-snapshot' } | { from: 'point-in-time'; time: string };

/** `latest` → newest snapshot; an ISO-8601 time with zone (or `pitr-latest`) → point in time. */
export function parseRestorePoint(value: string | undefined): RestorePoint {
  const v = (value ?? 'latest').trim();
  if (v === 'latest') return { from: 'latest-snapshot' };
  if (v === 'pitr-latest') return { from: 'point-in-time', time: 'latest' };
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v))) return { from: 'point-in-time', time: new Date(v).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  throw new FlagError(`--restore-point must be latest, pitr-latest or an ISO-8601 time with zone (e.g. 2026-05-01T12:00:00Z), got '${v}'`);
}

/** What the verifier gets: the restored endpoints and the ARNs to read their credentials from. */
export interface ScratchTarget {
  region: string;
  dbIdentifier: string;
  dbEndpoint: string;
  dbSecretArn?: string;
  cacheEndpoint?: string;
  cacheAuthSecretArn?: string;
  /** The source's backup bucket (manifests to compare rows against). */
  sourceBucket: string;
}

export type ScratchVerifier = (target: ScratchTarget, opts: { signal?: AbortSignal; log: (line: string) => void }) => Promise<CheckResult[]>;

export interface ScratchDrillOptions {
  driver: AdminDriver;
  /** Source stack (its outputs name the DB to restore and the bucket the report goes to). */
  sourceStack: string;
  /** Name for the scratch stack; default `<source project path>/scratch-<stamp>`. */
  scratchStack?: string;
  restore: RestorePoint;
  verify: ScratchVerifier;
  /** The bucket store the report is written to (the source's bucket). */
  reportStore: (region: string, bucket: string) => ObjectStore;
  clock?: Clock;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface DrillReport {
  id: string;
  ok: boolean;
  source: { stack: string; region: string; db_identifier: string; bucket: string };
  scratch_stack: string;
  restore: RestorePoint;
  started_at: string;
  finished_at: string;
  /** Duration of the scratch stack's `pulumi up` (restore + cache + network), seconds. */
  restore_seconds?: number;
  restored_endpoint?: string;
  verify?: { ok: boolean; passed: number; failed: number; checks: CheckResult[] };
  destroyed: boolean;
  destroy_error?: string;
  error?: string;
  report_key?: string;
}

export function scratchStackName(source: string, stamp: string): string {
  const parts = source.split('/');
  parts[parts.length - 1] = `scratch-${stamp.replace('_', '-')}`;
  return parts.join('/');
}

export async function scratchDrill(o: ScratchDrillOptions): Promise<DrillReport> {
  const clock = o.clock ?? systemClock;
  const log = (l: string) => o.log?.(redact(l));
  const started = clock.now();
  const id = `drill_${stampOf(started)}`;
  const source = await o.driver.select(o.sourceStack);
  const outs = plainOutputs(await source.outputs());
  const str = (k: string) => (typeof outs[k] === 'string' && outs[k] ? (outs[k] as string) : undefined);
  const region = str('region');
  const db = str('dbIdentifier');
  const bucket = str('bucketName');
  const peerRegion = str('peerRegion');
  if (!region || !db || !bucket) throw new UsageError(`stack ${o.sourceStack} lacks outputs ${[!region && 'region', !db && 'dbIdentifier', !bucket && 'bucketName'].filter(Boolean).join(', ')}: deploy it first`);
  const namePrefix = (await source.getConfig(`${NS}:namePrefix`, false)) ?? 'botdr';
  const scratchName = o.scratchStack ?? scratchStackName(o.sourceStack, stampOf(started));
  if (scratchName === o.sourceStack) throw new UsageError('the scratch stack must not be the source stack');

  const report: DrillReport = {
    id,
    ok: false,
    source: { stack: o.sourceStack, region, db_identifier: db, bucket },
    scratch_stack: scratchName,
    restore: o.restore,
    started_at: started.toISOString(),
    finished_at: started.toISOString(),
    destroyed: false,
  };
  const lines = (prefix: string) => (out: string) => out.split(/\r?\n/).forEach((l) => l.trim() && log(`${prefix} ${l}`));

  let created = false;
  try {
    const scratch = await o.driver.selectOrCreate(scratchName);
    created = true;
    const config: Record<string, string> = {
      'aws:region': region,
      [`${NS}:role`]: 'scratch',
      [`${NS}:peerRegion`]: peerRegion ?? region,
      [`${NS}:namePrefix`]: namePrefix,
      [`${NS}:scratch.restoreFrom`]: o.restore.from,
      [`${NS}:scratch.sourceDbIdentifier`]: db,
    };
    if (o.restore.from === 'point-in-time') config[`${NS}:scratch.restoreTime`] = o.restore.time;
    for (const [k, v] of Object.entries(config)) await scratch.setConfig(k, v, k.includes('.') && !k.startsWith('aws:'));
    log(`scratch stack ${scratchName}: restore ${db} (${o.restore.from}${o.restore.from === 'point-in-time' ? ` ${o.restore.time}` : ''}) in ${region}`);
    if (o.signal?.aborted) throw new OperationError('interrupted before the restore');

    const t0 = clock.now().getTime();
    const up = await scratch.up({ message: `dr drill ${id}: restore ${db}`, onOutput: lines(`[${scratchName} up]`) });
    if (up.result !== 'succeeded') throw new OperationError(`pulumi up of ${scratchName} ended ${up.result}`);
    report.restore_seconds = Math.round((clock.now().getTime() - t0) / 1000);

    const so = plainOutputs(await scratch.outputs());
    const s = (k: string) => (typeof so[k] === 'string' && so[k] ? (so[k] as string) : undefined);
    const endpoint = s('dbEndpoint');
    if (!endpoint) throw new OperationError(`scratch stack ${scratchName} has no dbEndpoint output after its update`);
    report.restored_endpoint = endpoint;
    const target: ScratchTarget = { region, dbIdentifier: s('dbIdentifier') ?? `${db}-scratch`, dbEndpoint: endpoint, sourceBucket: bucket };
    if (s('dbSecretArn')) target.dbSecretArn = s('dbSecretArn');
    if (s('cacheEndpoint')) target.cacheEndpoint = s('cacheEndpoint');
    if (s('cacheAuthSecretArn')) target.cacheAuthSecretArn = s('cacheAuthSecretArn');
    const checks = await o.verify(target, { signal: o.signal, log });
    const passed = checks.filter((c) => c.ok).length;
    report.verify = { ok: checks.length > 0 && passed === checks.length, passed, failed: checks.length - passed, checks };
    if (checks.length === 0) report.error = 'the verifier ran no check';
  } catch (err) {
    report.error = redact(errorSummary(err));
    log(`drill failed: ${report.error}`);
  } finally {
    if (created) {
      try {
        const scratch = await o.driver.select(scratchName);
        const d = await scratch.destroy({ message: `dr drill ${id}: destroy`, onOutput: lines(`[${scratchName} destroy]`) });
        if (d.result !== 'succeeded') throw new OperationError(`pulumi destroy ended ${d.result}`);
        await scratch.remove();
        report.destroyed = true;
        log(`scratch stack ${scratchName} destroyed and removed`);
      } catch (err) {
        report.destroy_error = `${redact(errorSummary(err))} — destroy it by hand: pulumi destroy -s ${scratchName} && pulumi stack rm -s ${scratchName}`;
        log(`DESTROY FAILED: ${report.destroy_error}`);
      }
    }
    report.finished_at = clock.now().toISOString();
    report.ok = !report.error && !!report.verify?.ok && report.destroyed;
    const key = `${DRILL_PREFIX}${id}/report.json`;
    try {
      await o.reportStore(region, bucket).put(key, JSON.stringify(report, null, 2), 'application/json');
      report.report_key = `s3://${bucket}/${key}`;
    } catch (err) {
      report.error = [report.error, `report not stored in s3://${bucket}/${key}: ${redact(errorSummary(err))}`].filter(Boolean).join('; ');
      report.ok = false;
    }
  }
  return report;
}

/** The drill report as Markdown (the JSON report is the same data). */
export function drillMarkdown(r: DrillReport): string {
  const lines = [
    `# Restore drill ${r.id}: ${r.ok ? 'PASSED' : 'FAILED'}`,
    '',
    `- source: stack \`${r.source.stack}\`, database \`${r.source.db_identifier}\` in ${r.source.region}, bucket \`${r.source.bucket}\``,
    `- scratch stack: \`${r.scratch_stack}\` (${r.destroyed ? 'destroyed and removed' : `NOT destroyed: ${r.destroy_error ?? 'unknown'}`})`,
    `- restore: ${r.restore.from}${r.restore.from === 'point-in-time' ? ` ${r.restore.time}` : ''}, ${r.restore_seconds !== undefined ? `${r.restore_seconds} s` : 'not measured'}${r.restored_endpoint ? ` → ${r.restored_endpoint}` : ''}`,
    `- started ${r.started_at}, finished ${r.finished_at}`,
    ...(r.report_key ? [`- stored at ${r.report_key}`] : []),
    ...(r.error ? ['', `**Error:** ${r.error}`] : []),
    '',
    '| check | result | detail |',
    '|---|---|---|',
    ...(r.verify?.checks ?? []).map((c) => `| ${c.name} | ${c.ok ? 'PASS' : 'FAIL'} | ${c.detail.replace(/\|/g, '\\|')} |`),
  ];
  return lines.join('\n') + '\n';
}
