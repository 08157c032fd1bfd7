/**
 * The AWS mode of `dr drill` (`--stack scratch`): E2's {@link scratchDrill} (scratch stack restoring the latest
 * snapshot or a point in time, timed `up`, verify, destroy always, report in the source bucket) with the
 * production verifier ({@link productionScratchVerifier}: Secrets Manager credentials, `dr verify --full` logic
 * against the restored endpoint). The report is also written under `--reports-dir` (JSON + Markdown).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { httpHealthProbe } from '../adapters/tools/http-health';
import { LocalPgTools } from '../adapters/tools/pg-tools';
import { LocalRedisTools } from '../adapters/tools/redis-tools';
import type { FlagSpecs } from './args';
import type { CommandContext } from './command';
import { UsageError } from '../core/errors';
import { redactValue } from '../core/redact';
import { DrillReport, parseRestorePoint, scratchDrill } from '../ops/scratch-drill';
import { productionScratchVerifier } from '../ops/scratch-verifier';
import { AWS_STACK_FLAGS, awsDeps, pulumiProjectDir } from './aws';
import { systemClock } from '../core/clock';

export const AWS_DRILL_FLAGS: FlagSpecs = {
  stack: { type: 'string', description: 'AWS: run the quarterly restore drill on a throw-away scratch stack', choices: ['scratch'] },
  'source-stack': { type: 'string', description: 'AWS: the stack whose database is restored (default: --primary-stack)', env: 'DR_DRILL_SOURCE_STACK' },
  'scratch-stack': { type: 'string', description: 'AWS: name of the scratch stack (default: <source>/scratch-<time>)' },
  'restore-point': { type: 'string', description: 'AWS: latest (newest snapshot), pitr-latest, or an ISO-8601 time with zone (point in time)', env: 'DR_RESTORE_POINT', default: 'latest' },
  database: { type: 'string', description: 'AWS: database to verify on the restored instance (default: the one the latest backup manifest names)' },
  ...AWS_STACK_FLAGS,
};

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

export async function awsDrillCommand(ctx: CommandContext): Promise<number> {
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
    secretsManager: clients.secretsManager,
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
