import * as path from 'node:path';
import { Command, JSON_FLAG } from '../command';
import { UsageError } from '../../core/errors';
import { checkDrillOptions, runDrill, SCENARIOS, Scenario } from '../../rehearsal/drill';
import type { ReplicationHold } from '../../rehearsal/environment';
import { DIR_FLAG, LOCAL_FLAG, localDir } from '../local';
import { AWS_DRILL_FLAGS, awsDrillCommand } from '../drill-aws';

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
    'reports-dir': { type: 'string', description: 'where the report goes (--local: Markdown; AWS: JSON + Markdown, also stored in the bucket)', default: 'reports' },
    dir: { ...DIR_FLAG, description: `--local: ${DIR_FLAG.description}` },
    ...AWS_DRILL_FLAGS,
    ...JSON_FLAG,
  },
  async run(ctx) {
    if (ctx.flags.bool('local') && ctx.flags.has('stack')) throw new UsageError('--local and --stack exclude each other: the local rehearsal or the scratch-stack drill on AWS');
    if (!ctx.flags.bool('local')) return awsDrillCommand(ctx);
    const tps = ctx.flags.number('load-tps') ?? 20;
    const duration = ctx.flags.number('duration') ?? 5;
    if (!(tps >= 1 && tps <= 1000)) throw new UsageError(`--load-tps must be between 1 and 1000, got ${tps}`);
    if (!(duration >= 1 && duration <= 3600)) throw new UsageError(`--duration must be between 1 and 3600 seconds, got ${duration}`);
    const scenario = ctx.flags.required('scenario') as Scenario;
    const replicationDelayMs = ctx.flags.number('replication-delay-ms');
    const replicationHold = ctx.flags.string('replication-hold') as ReplicationHold | undefined;
    if (replicationHold !== undefined && replicationDelayMs === undefined) throw new UsageError('--replication-hold needs --replication-delay-ms');
    try {
      checkDrillOptions({ scenario, loadTps: tps, durationSeconds: duration, replicationDelayMs, replicationHold });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const r = await runDrill({
      scenario,
      loadTps: tps,
      durationSeconds: duration,
      replicationDelayMs,
      replicationHold,
      dir: localDir(ctx),
      keep: ctx.flags.bool('keep'),
      reportsDir: path.resolve(ctx.cwd, ctx.flags.string('reports-dir') ?? 'reports'),
      signal: ctx.signal,
      onStep: (name, status, ms, detail) => {
        if (status === 'running') ctx.out.info(`[..] ${name}`);
        else ctx.out.step(name, status, ms, detail);
      },
      onEngineStep: (e) => {
        if (e.status !== 'running') ctx.out.step(`  failover ${e.step}`, e.status, e.duration_ms, e.detail);
      },
      log: (l) => ctx.out.info(`     ${l}`),
    });
    const json = {
      ok: r.ok,
      scenario: r.scenario,
      rto_seconds: r.rto_seconds,
      detection_seconds: r.detection_seconds,
      rpo: r.rpo,
      steps: r.steps.map((s) => ({ name: s.name, status: s.status, duration_ms: s.duration_ms, ...(s.detail ? { detail: s.detail } : {}) })),
      restore: r.restore,
      failover: r.failover,
      traffic: r.traffic,
      checks: r.checks,
      report: r.report,
      ...(r.error ? { error: r.error } : {}),
    };
    const human = [
      '',
      `drill ${r.scenario}: ${r.ok ? 'PASSED' : 'FAILED'}${r.error ? ` (${r.error})` : ''}`,
      `  RTO ${r.rto_seconds ?? 'n/a'} s (detection ${r.detection_seconds ?? 'n/a'} s)`,
      `  RPO ${r.rpo.lost_writes} of ${r.rpo.acked_writes} acknowledged database writes lost (cache ${r.rpo.cache_lost_writes}/${r.rpo.cache_acked_writes}); lag at failure ${r.rpo.lag_at_failure_seconds ?? '?'} s / ${r.rpo.lag_at_failure_bytes ?? '?'} bytes`,
      `  restore ${r.restore.verified ? 'verified' : 'NOT verified'}${r.restore.duration_seconds !== null ? ` in ${r.restore.duration_seconds} s` : ''}`,
      ...r.checks.map((c) => `  [${c.ok ? 'x' : ' '}] ${c.name}: ${c.detail}`),
      `  report: ${r.report}`,
    ].join('\n');
    ctx.out.result(json, human);
    return r.ok ? 0 : 1;
  },
};
