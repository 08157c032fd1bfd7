/**
 * `dr drill`: `--local`, the two-region rehearsal under load (rehearsal/drill.ts); `--stack scratch`, the quarterly
 * restore drill on AWS (ops/scratch-drill.ts: a scratch stack restoring the latest snapshot or a point in time,
 * timed `up`, verify with the production verifier, destroy always, report in the source bucket and under
 * `--reports-dir` as JSON + Markdown).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { secretStringReader } from '../../adapters/aws/secret-values';
import { LocalPgTools } from '../../adapters/tools/pg-tools';
import { LocalRedisTools } from '../../adapters/tools/redis-tools';
import { httpHealthProbe } from '../../adapters/tools/http-health';
import { describeDivergent } from '../../backup/index';
import { systemClock } from '../../core/clock';
import { FlagError, UsageError } from '../../core/errors';
import { redactValue } from '../../core/redact';
import { drillMarkdown, parseRestorePoint, scratchDrill } from '../../ops/scratch-drill';
import { productionScratchVerifier } from '../../ops/scratch-verifier';
import { checkDrillOptions, runDrill, SCENARIOS, Scenario } from '../../rehearsal/drill';
import type { ReplicationHold } from '../../rehearsal/environment';
import type { FlagSpecs } from '../args';
import { AWS_STACK_FLAGS, awsDeps, pulumiProjectDir } from '../aws';
import { Command, CommandContext, JSON_FLAG } from '../command';
import { stepListener } from '../failover-run';
import { DIR_FLAG, LOCAL_FLAG, localDir } from '../local';


const AWS_DRILL_FLAGS: FlagSpecs = {
  stack: { type: 'string', description: 'AWS: run the quarterly restore drill on a throw-away scratch stack', choices: ['scratch'] },
  'source-stack': { type: 'string', description: 'AWS: the stack whose database is restored (default: --primary-stack)', env: 'DR_DRILL_SOURCE_STACK' },
  'scratch-stack': { type: 'string', description: 'AWS: name of the scratch stack (default: <source>/scratch-<time>)' },
  'restore-point': { type: 'string', description: 'AWS: latest (newest snapshot), pitr-latest, or an ISO-8601 time with zone (point in time)', env: 'DR_RESTORE_POINT', default: 'latest' },
  database: { type: 'string', description: 'AWS: database to verify on the restored instance (default: the one the latest backup manifest names)' },
  ...AWS_STACK_FLAGS,
};

export const command: Command = {
  name: 'drill',
  summary: '--local: two-region rehearsal under load (failure, detection, failover, restore, verify; RTO/RPO); --stack scratch: the restore drill on AWS',
  flags: {
    local: LOCAL_FLAG,
    scenario: { type: 'string', description: 'what fails', choices: SCENARIOS, default: 'datacenter' },
    'load-tps': { type: 'number', description: 'bot writes per second during the drill', default: 20 },
    duration: { type: 'number', description: 'seconds of steady traffic before the failure', default: 5 },
    keep: { type: 'boolean', description: 'leave the environment running afterwards' },
    'replication-delay-ms': { type: 'number', description: '--local datacenter|database: hold replication back this long before the failure, so the standby really lags (measures unplanned RPO against real lag)' },
    'replication-hold': { type: 'string', description: "--local: how replication is held back: sender (WAL never reaches the standby: writes are really lost) or replay (received, not applied)", choices: ['sender', 'replay'] },
    failback: { type: 'boolean', description: '--local: after the drill, fail back to a (the old primary\'s writes after the split kept in a verified divergent backup before pg_rewind) and check that it lists every lost write' },
    'reports-dir': { type: 'string', description: 'where the report goes (--local: Markdown; AWS: JSON + Markdown, also stored in the bucket)', default: 'reports' },
    dir: { ...DIR_FLAG, description: `--local: ${DIR_FLAG.description}` },
    ...AWS_DRILL_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    if (ctx.flags.bool('local') && ctx.flags.has('stack')) throw new FlagError('--local and --stack exclude each other: the local rehearsal or the scratch-stack drill on AWS');
    if (!ctx.flags.bool('local')) return awsDrill(ctx);
    const tps = ctx.flags.number('load-tps') ?? 20;
    const duration = ctx.flags.number('duration') ?? 5;
    if (!(tps >= 1 && tps <= 1000)) throw new FlagError(`--load-tps must be between 1 and 1000, got ${tps}`);
    if (!(duration >= 1 && duration <= 3600)) throw new FlagError(`--duration must be between 1 and 3600 seconds, got ${duration}`);
    const scenario = ctx.flags.required('scenario') as Scenario;
    const replicationDelayMs = ctx.flags.number('replication-delay-ms');
    const replicationHold = ctx.flags.string('replication-hold') as ReplicationHold | undefined;
    if (replicationHold !== undefined && replicationDelayMs === undefined) throw new FlagError('--replication-hold needs --replication-delay-ms');
    try {
      checkDrillOptions({ scenario, loadTps: tps, durationSeconds: duration, replicationDelayMs, replicationHold, failback: ctx.flags.bool('failback') });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const dir = localDir(ctx);
    ctx.setCleanupHint(`dr local down --dir ${dir}`);
    const r = await runDrill({
      scenario,
      loadTps: tps,
      durationSeconds: duration,
      replicationDelayMs,
      replicationHold,
      failback: ctx.flags.bool('failback'),
      dir,
      keep: ctx.flags.bool('keep'),
      reportsDir: path.resolve(ctx.cwd, ctx.flags.string('reports-dir') ?? 'reports'),
      signal: ctx.signal,
      onStep: (name, status, ms, detail) => {
        if (status === 'running') ctx.out.info(`[..] ${name}`);
        else ctx.out.step(name, status, ms, detail);
      },
      onEngineStep: stepListener(ctx, '  failover '),
      onLive: (t) => ctx.out.live(t),
      log: (l) => ctx.out.info(`     ${l}`),
    }).finally(() => ctx.setCleanupHint(undefined));
    const json = {
      ok: r.ok,
      scenario: r.scenario,
      rto_seconds: r.rto_seconds,
      detection_seconds: r.detection_seconds,
      detection_checks: r.detection_checks,
      rpo: r.rpo,
      steps: r.steps.map((s) => ({ name: s.name, status: s.status, duration_ms: s.duration_ms, ...(s.detail ? { detail: s.detail } : {}) })),
      restore: r.restore,
      ...(r.failback ? { failback: r.failback } : {}),
      ...(r.token ? { token: r.token } : {}),
      ...(r.permissions ? { permissions: r.permissions } : {}),
      ...(r.bots ? { bots: r.bots } : {}),
      ...(r.readiness ? { readiness: r.readiness } : {}),
      failover: r.failover,
      traffic: r.traffic,
      checks: r.checks,
      report: r.report,
      ...(r.error ? { error: r.error } : {}),
    };
    const human = [
      '',
      `drill ${r.scenario}: ${r.ok ? 'PASSED' : 'FAILED'}${r.error ? ` (${r.error})` : ''}`,
      ...(r.readiness ? [] : [`  RTO ${seconds(r.rto_seconds)} (detection ${r.scenario === 'planned' ? 'n/a: planned' : seconds(r.detection_seconds)})`]),
      r.readiness
        ? [`  readiness: ${r.readiness.baseline} before, ${r.readiness.final} after the repairs`, ...r.readiness.breaks.map((b) => `    ${b.what}: ${b.caught ? 'caught' : 'NOT caught'} by ${b.check} in ${b.detect_seconds} s; ready again ${b.repair_seconds === null ? 'never' : `${b.repair_seconds} s`} after the repair`)].join('\n')
        : r.token
        ? `  bot: ${r.token.switch_seconds !== null ? `token switched and the bot posting again ${r.token.switch_seconds} s after the revocation; ` : ''}${r.token.calls_ok} calls ok, ${r.token.calls_failed} failed; ${r.token.sessions_kept}/${r.token.sessions} conversations kept`
        : `  RPO ${r.rpo.lost_writes} of ${r.rpo.acked_writes} acknowledged database writes lost (cache ${r.rpo.cache_lost_writes}/${r.rpo.cache_acked_writes}); lag at failure ${r.rpo.lag_at_failure_seconds ?? '?'} s / ${r.rpo.lag_at_failure_bytes ?? '?'} bytes`,
      ...(r.bots ? [`  bots (${r.bots.bot}): ${r.bots.updates_sent} updates sent, handled in a ${r.bots.updates_handled_a} / in b ${r.bots.updates_handled_b}, ${r.bots.updates_lost} lost, ${r.bots.conflicts_after_switch} conflict(s) after the switch; b's first update ${seconds(r.bots.switch_seconds)} after the failure`] : []),
      ...(r.readiness ? [] : [`  restore ${r.restore.verified ? 'verified' : 'NOT verified'}${r.restore.duration_seconds !== null ? ` in ${r.restore.duration_seconds} s` : ''}`]),
      ...(r.failback ? [`  failback: ${r.failback.divergent ? describeDivergent(r.failback.divergent) : 'no divergent backup (the database did not move)'}; switchover ${r.failback.switchover.outcome}`] : []),
      ...r.checks.map((c) => `  [${c.ok ? 'x' : ' '}] ${c.name}: ${c.detail}`),
      `  report: ${r.report}`,
    ].join('\n');
    ctx.out.result(json, human);
    return r.ok ? 0 : 1;
  },
};

async function awsDrill(ctx: CommandContext): Promise<number> {
  if (ctx.flags.string('stack') !== 'scratch') throw new UsageError("pass --local for the local rehearsal or --stack scratch for the restore drill on AWS");
  const restore = parseRestorePoint(ctx.flags.string('restore-point'));
  const source = ctx.flags.string('source-stack') ?? ctx.flags.required('primary-stack');
  const scratchName = ctx.flags.string('scratch-stack');
  const reportsDir = path.resolve(ctx.cwd, ctx.flags.string('reports-dir') ?? 'reports');
  const workDir = pulumiProjectDir(ctx);
  const clients = awsDeps.clients(ctx.env);
  const clock = awsDeps.clock ?? systemClock;
  const pg = new LocalPgTools({ pgDump: ctx.env.DR_PG_DUMP, pgRestore: ctx.env.DR_PG_RESTORE, env: ctx.env });
  const verifier = productionScratchVerifier({
    secrets: secretStringReader(clients.secretsManager),
    store: (region, bucket) => awsDeps.store(region, bucket, ctx.env),
    pg,
    redis: new LocalRedisTools({ env: ctx.env }),
    health: httpHealthProbe,
    clock,
    ...(ctx.flags.string('database') ? { database: ctx.flags.string('database') } : {}),
    onCheck: (c) => ctx.out.step(`verify: ${c.name}`, c.ok ? 'ok' : 'failed', c.durationMs, c.detail),
  });
  const report = await scratchDrill({
    driver: awsDeps.adminDriver(workDir, ctx.env),
    sourceStack: source,
    ...(scratchName ? { scratchStack: scratchName } : {}),
    restore,
    verify: verifier,
    reportStore: (region, bucket) => awsDeps.store(region, bucket, ctx.env),
    clock,
    log: (l) => ctx.out.info(l),
    signal: ctx.signal,
  });
  fs.mkdirSync(reportsDir, { recursive: true });
  const safe = redactValue(report);
  const jsonFile = path.join(reportsDir, `${report.id}.json`);
  const mdFile = path.join(reportsDir, `${report.id}.md`);
  fs.writeFileSync(jsonFile, JSON.stringify(safe, null, 2) + '\n');
  fs.writeFileSync(mdFile, drillMarkdown(safe));
  const human = [
    '',
    `drill ${report.id}: ${report.ok ? 'PASSED' : 'FAILED'}${report.error ? ` (${report.error})` : ''}`,
    `  restore ${report.restore_seconds !== undefined ? `${report.restore_seconds} s` : 'not measured'}; verify ${report.verify ? `${report.verify.passed}/${report.verify.passed + report.verify.failed} checks passed` : 'not run'}; scratch stack ${report.destroyed ? 'destroyed' : 'NOT destroyed'}`,
    ...(report.destroy_error ? [`  ${report.destroy_error}`] : []),
    `  report: ${report.report_key ?? 'not stored in the bucket'}, ${mdFile}`,
  ].join('\n');
  ctx.out.result({ ...report, reports: { json: jsonFile, markdown: mdFile } }, human);
  return report.ok ? 0 : 1;
}

function seconds(v: number | null): string {
  return v === null ? 'n/a' : `${v} s`;
}
