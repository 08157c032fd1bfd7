/**
 * The drill's Markdown report (under `reports/`, git-ignored): verdict, figures, checks, drill and engine steps,
 * the timeline. Everything passes through redact().
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { redact } from '../core/redact';
import type { DrillResult } from './drill-result';

export function reportFileName(r: Pick<DrillResult, 'scenario' | 'started_at'>, n = 1): string {
  return `drill-local-${r.scenario}-${r.started_at.replace(/[:.]/g, '-')}${n > 1 ? `-${n}` : ''}.md`;
}

export function renderReport(r: DrillResult): string {
  const L: string[] = [];
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  L.push(`# Local DR drill: ${r.scenario}`, '');
  L.push(`**Verdict: ${r.ok ? 'PASSED' : 'FAILED'}**${r.error ? ` — ${r.error}` : ''}`, '');
  L.push(`Started ${r.started_at}, finished ${r.finished_at}. ${r.kept ? `Environment: \`${r.env_dir}\`, kept (\`dr local down --dir ${r.env_dir}\` stops it).` : 'The environment was started for this drill and torn down after it.'}`, '');
  L.push('## Figures', '');
  L.push('| measure | value |', '|---|---|');
  L.push(`| RTO (failure → first acknowledged write through the service names, detection included) | ${r.rto_seconds === null ? 'n/a' : `${r.rto_seconds} s`} |`);
  L.push(`| detection (failure → incident raised) | ${r.detection_seconds === null ? (r.scenario === 'planned' ? 'n/a (planned)' : 'n/a') : `${r.detection_seconds} s`} |`);
  L.push(`| acknowledged database writes | ${r.rpo.acked_writes} |`);
  L.push(`| lost database writes (RPO) | ${r.rpo.lost_writes} |`);
  L.push(`| acknowledged / lost cache writes | ${r.rpo.cache_acked_writes} / ${r.rpo.cache_lost_writes} |`);
  L.push(`| replication lag at failure | ${r.rpo.lag_at_failure_seconds ?? '?'} s / ${r.rpo.lag_at_failure_bytes ?? '?'} bytes |`);
  if (r.rpo.replication_hold) L.push(`| replication held back before the failure | ${r.rpo.replication_hold.ms} ms (${r.rpo.replication_hold.how === 'sender' ? 'walsender stopped: nothing reached the standby' : 'replay paused: received, not applied'}) |`);
  if (r.rpo.estimated_data_loss) L.push(`| engine's estimated data loss | ${r.rpo.estimated_data_loss.lag_seconds ?? '?'} s / ${r.rpo.estimated_data_loss.lag_bytes ?? '?'} bytes (${r.rpo.estimated_data_loss.basis}) |`);
  L.push(`| restore verified (PostgreSQL and Redis) | ${yes(r.restore.verified)}${r.restore.duration_seconds !== null ? ` in ${r.restore.duration_seconds} s` : ''} |`);
  const pg = r.restore.postgresql;
  const rd = r.restore.redis;
  L.push(`| PostgreSQL restore | ${pg ? `${yes(pg.verified)}: ${pg.backup} from ${pg.bucket} into ${pg.target}, checksum ${pg.checksum}, ${pg.tables.filter((t) => t.ok).length}/${pg.tables.length} tables match (${pg.duration_seconds} s)` : 'not run'} |`);
  L.push(`| Redis restore | ${rd ? `${yes(rd.verified)}: ${rd.backup} from ${rd.bucket} into a ${rd.target}, checksum ${rd.checksum}, ${rd.keys.restored}/${rd.keys.backup} keys, ${rd.sample.compared - rd.sample.mismatched}/${rd.sample.compared} sampled values match (${rd.duration_seconds} s)` : 'not run'} |`);
  const dv = r.failback?.divergent;
  if (r.failback) L.push(`| failback: old primary's rows that differ, kept before pg_rewind | ${dv ? `${dv.rows_differ ?? '?'} in \`${dv.location}/${dv.key}\` (${dv.restorability.toLowerCase()}); ${r.failback.lost_writes_kept}/${r.rpo.lost_write_ids.length} lost write ids listed` : 'no divergent backup (the database did not move)'} |`);
  L.push(`| traffic | ${r.traffic.load_tps} writes/s: ${r.traffic.ops} ops, ${r.traffic.db_errors} database / ${r.traffic.cache_errors} cache errors, ${r.traffic.reconnects} (re)connects |`);
  L.push('');
  if (r.token) {
    L.push('## Bot token', '');
    L.push(r.scenario !== 'token-outage'
      ? `The community bot's active token was revoked at the platform (the fake Telegram API answered 401). The token monitor, probing every second, failed it at once (a 401 is a revocation, no N-probe wait) and switched to the next token whose last probe passed (preferring one with every channel right); the bot worker, following the bot runtime (a 401 makes it re-read the token store at once), posted again with the new token **${r.token.switch_seconds ?? '?'} s** after the revocation (the switch time: revocation → first successful call with the new token).`
      : 'Every call to the fake Telegram API answered 502 for 3 s (the platform was down). The monitor reported `platform-degraded` and did not switch: another token cannot help when the platform itself is down, and switching burns tokens. When the platform answered again the bot carried on with the same token.', '');
    L.push('| measure | value |', '|---|---|');
    L.push(`| bot calls ok / failed | ${r.token.calls_ok} / ${r.token.calls_failed} |`);
    L.push(`| conversations (Redis sessions) kept across the ${r.scenario === 'token-outage' ? 'outage' : 'switch'} | ${r.token.sessions_kept} of ${r.token.sessions} |`, '');
  }
  if (r.permissions) {
    L.push('## Channel rights', '');
    L.push(`Before the revocation, the backup token next in rotation lost a right in one channel. The monitor checks every token's rights (not only the active one's) and reported it; nothing was corrected (bots cannot grant themselves rights). When the active token was revoked, the switch went to token **${r.permissions.switched_to ?? '?'}**${r.permissions.skipped.length ? `, skipping token ${r.permissions.skipped.join(', ')}` : ''}.`, '');
    L.push('| bot | token | channel | missing | admin action |', '|---|---|---|---|---|');
    for (const m of r.permissions.missing) L.push(`| ${m.bot} | ${m.token} | ${m.channel} | ${m.missing.join(', ')} | ${m.action ?? 'grant the missing rights'} |`);
    L.push('');
  }
  if (r.bots) L.push(...botsSection(r.bots));
  if (r.readiness) {
    const runMs = r.readiness.runs.map((x) => x.ms).sort((a, b) => a - b);
    L.push('## Readiness', '');
    L.push(`Four things broken one at a time on the running environment, each checked with one readiness run, repaired, and checked until ready again. Baseline: **${r.readiness.baseline}**, after the repairs: **${r.readiness.final}**. ${runMs.length} readiness runs, median ${runMs[Math.floor(runMs.length / 2)] ?? '?'} ms (${r.readiness.runs[0]?.local ?? '?'} local probes and ${r.readiness.runs[0]?.platform ?? '?'} platform calls each).`, '');
    L.push('| break | caught by | caught in one run | detect | repair → ready | reason |', '|---|---|---|---|---|---|');
    for (const b of r.readiness.breaks) L.push(`| ${b.what} | \`${b.check}\` | ${yes(b.caught)} | ${b.detect_seconds} s | ${b.repair_seconds === null ? 'not ready' : `${b.repair_seconds} s (${b.runs_to_ready} run${b.runs_to_ready === 1 ? '' : 's'})`} | ${b.reason.replace(/\|/g, '\\|')} |`);
    L.push('');
  }
  L.push('## Checks', '');
  for (const c of r.checks) L.push(`- [${c.ok ? 'x' : ' '}] ${c.name}: ${c.detail}`);
  L.push('');
  L.push('## Drill steps', '', '| step | status | duration |', '|---|---|---|');
  for (const s of r.steps) L.push(`| ${s.name} | ${s.status} | ${(s.duration_ms / 1000).toFixed(2)} s |`);
  L.push('');
  if (r.failover) {
    L.push(`## Failover ${r.failover.id} (${r.failover.mode} ${r.failover.incident}, ${r.failover.from} → ${r.failover.to}): ${r.failover.outcome}`, '');
    L.push('| engine step | status | duration | detail |', '|---|---|---|---|');
    for (const s of r.failover.steps) L.push(`| ${s.name} | ${s.status} | ${s.duration_ms} ms | ${(s.detail ?? '').replace(/\|/g, '\\|')} |`);
    L.push('', r.kept ? `Journal: \`${r.failover.journal}\`` : 'The journal went with the environment (rerun with `--keep` to keep both); its steps are above.', '');
  }
  if (r.failback) {
    L.push(`## Failback to a: switchover ${r.failback.switchover.id} ${r.failback.switchover.outcome}`, '');
    if (dv) {
      L.push(`Before pg_rewind, the old primary's state was kept as a divergent backup: \`${dv.location}/${dv.key}\` (manifest \`${dv.manifest_key}\`, ${dv.restorability.toLowerCase()}, ${dv.duration_seconds} s). Split at ${dv.split.lsn ?? '?'} (${dv.split.source}${dv.split.from_timeline !== undefined ? `, timeline ${dv.split.from_timeline} → ${dv.split.to_timeline}` : ''})${dv.wal_after_split_bytes !== undefined ? `; ${dv.wal_after_split_bytes} bytes of WAL after it` : ''}${dv.transactions !== undefined ? `, ${dv.transactions} transaction(s)` : ''}.`, '');
      L.push('| table | only on the old primary | changed |', '|---|---|---|');
      for (const t of dv.tables) L.push(`| ${t.table} | ${t.only_on_old_primary} | ${t.changed}${t.note ? ` (${t.note})` : ''} |`);
      L.push(`| **total** | **${dv.rows_differ ?? '?'}** rows differ | |`, '');
    }
    L.push(`Rebuilt with ${r.failback.rebuilt.database ?? 'no database rebuild'}${r.failback.rebuilt.cache ? ' + Redis REPLICAOF' : ''}; a serves again, b is its standby.`, '');
  }
  if (r.rpo.lost_writes > 0) {
    L.push('## Lost writes', '');
    L.push(`${r.rpo.lost_writes} acknowledged database write(s) are missing on the new primary. ${dv ? `They are kept in the divergent backup \`${dv.location}/${dv.key}\` (its manifest lists their ids per table): reconcile them from there.` : "They are still in the old primary's data directory: `dr failback` keeps them in a divergent backup before it rewinds it."}${r.rpo.lost_write_ids.length < r.rpo.lost_writes ? ` First ${r.rpo.lost_write_ids.length} ids:` : ' Ids:'}`, '');
    L.push(r.rpo.lost_write_ids.map((id) => `\`${id}\``).join(', '), '');
  }
  if (r.restore.tables?.length) {
    L.push('## Restore row counts', '', '| table | manifest | restored |', '|---|---|---|');
    for (const t of r.restore.tables) L.push(`| ${t.table} | ${t.expected ?? '-'} | ${t.actual ?? '-'} |`);
    L.push('');
  }
  L.push('## Timeline', '', '| t (s) | event |', '|---|---|');
  for (const e of [...r.timeline].sort((a, b) => a.t_seconds - b.t_seconds)) L.push(`| ${e.t_seconds.toFixed(2)} | ${e.event.replace(/\|/g, '\\|')} |`);
  L.push('');
  if (r.notifications.length) {
    L.push('## Notifications', '');
    for (const n of r.notifications) L.push(`- ${n.kind}: ${n.message}`);
    L.push('');
  }
  L.push('Secrets and stacks have no local counterpart: their failover steps are reported as skipped, never faked.', '');
  return redact(L.join('\n'));
}

/**
 * Write the report; returns its path. A new report never replaces another one (two drills started in the same
 * millisecond get `-2`, `-3`…); `file` rewrites this drill's own report in place.
 */
export function writeReport(r: DrillResult, reportsDir: string, file?: string): string {
  fs.mkdirSync(reportsDir, { recursive: true });
  if (file) {
    fs.writeFileSync(file, renderReport(r));
    return file;
  }
  for (let n = 1; ; n++) {
    const target = path.join(reportsDir, reportFileName(r, n));
    try {
      fs.writeFileSync(target, renderReport(r), { flag: 'wx' });
      return target;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** The datacenter drill's bot tier (issue 11): updates sent against handled in each region. */
function botsSection(b: NonNullable<DrillResult['bots']>): string[] {
  const s = (v: number | null) => (v === null ? 'n/a' : `${v} s`);
  return [
    '## Bots: one consumer per token',
    '',
    `The ${b.bot} bot polls the fake Telegram (${b.webhook_target === 'polling' ? 'no webhook' : `webhook ${b.webhook_target}`}) from a worker in each region, each gated on the bot runtime's \`shouldConsume()\` over its region's copy of the secret. Region a's worker died with a (its secret store down too); the failover writes \`active_region = b\` before switching DNS; once a came back and the split-brain guard had run, a's worker was started again: the last row says what it did.`,
    '',
    '| measure | value |',
    '|---|---|',
    `| updates sent | ${b.updates_sent} |`,
    `| handled in a / in b | ${b.updates_handled_a} / ${b.updates_handled_b} |`,
    `| handled twice (a died before confirming, b took them again) | ${b.updates_handled_twice} |`,
    `| still queued / lost | ${b.updates_still_queued} / ${b.updates_lost} |`,
    `| 409 conflicts after the switch / in the whole drill | ${b.conflicts_after_switch} / ${b.conflicts_total} |`,
    `| failure → b consuming / b's first update | ${s(b.consuming_b_after_seconds)} / ${s(b.switch_seconds)} |`,
    `| DNS switch → b's first update | ${s(b.dns_switch_to_first_update_seconds)} |`,
    `| a's worker after a came back | ${b.returned_a ? `shouldConsume() ${b.returned_a.consuming}, ${b.returned_a.polls} getUpdates, ${b.returned_a.handled} handled` : 'a did not come back'} |`,
    '',
  ];
}
