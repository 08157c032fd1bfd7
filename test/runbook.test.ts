/**
 * The runbook as data (issue 13): runbook.yaml validates against lib/runbook.ts; every alarm the program declares
 * (primary, secondary, promoted secondary, scratch, under mocks) names an incident in its description and is listed
 * under it; every `dr` command the runbook names exists and its flags parse with the command's own specs; the
 * README's incident table is the one generated from the runbook; `dr runbook` prints the index, one incident and
 * the escalation matrix from stack config (validated); notifications link their incident.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { parseFlags } from '../automation/cli/args';
import { COMMANDS, resolveCommand } from '../automation/cli/registry';
import { loadRunbook } from '../automation/cli/commands/runbook';
import { Readable } from 'node:stream';
import { noticeBody, tokenNoticeBody } from '../automation/adapters/aws/sns-notifier';
import { runBackupJob, type PgTools } from '../automation/backup/index';
import { fixedClock } from '../automation/core/clock';
import { MemoryStore } from './helpers/memory-store';
import { LocalNotifier } from '../automation/adapters/rehearsal/local-notifier';
import { mapConfigSource, readEscalation } from '../lib/config';
import { ALARM_ID_TAG, incidentForAlarm, incidentTable, INCIDENT_IDS, RunbookError, splitCommandLine, validateRunbook } from '../lib/runbook';
import { dr } from './helpers/cli';
import { P, runStack } from './helpers/stacks';
import { makeTempDir, removeDir } from './helpers/services';

const ROOT = path.join(__dirname, '..');
const runbook = () => loadRunbook(ROOT);
const doc = () => parse(fs.readFileSync(path.join(ROOT, 'runbook.yaml'), 'utf8')) as Record<string, any>;

describe('runbook.yaml: the runbook as data', () => {
  it('validates, holds INC-001 … INC-008 in order, each with detection, severity, RTO/RPO, steps and verification', () => {
    const rb = runbook();
    assert.deepEqual(rb.incidents.map((i) => i.id), [...INCIDENT_IDS]);
    assert.deepEqual(
      rb.incidents.map((i) => i.title),
      ['Service crashed', 'Database down', 'Cache down', 'Region lost', 'Data corruption', 'Bot token revoked or bot banned', 'Backups failing or unverified', 'DR not ready'],
    );
    for (const i of rb.incidents) {
      assert.ok(i.steps.some((s) => s.run), `${i.id} names at least one dr command`);
      assert.ok(i.verification.length > 0);
    }
    assert.equal(rb.escalation.from, 'bot-platform-dr:alerts.escalation');
  });

  it('the validator names every problem with its path', () => {
    const bad = doc();
    bad.incidents[1].severity = 'SEV9';
    bad.incidents[2].steps[0] = { run: 'rm -rf /', why: 'no' };
    bad.incidents[3].steps[1] = { why: 'neither run nor do' };
    bad.incidents[4].rto_minutes = -1;
    bad.incidents[5].extra = true;
    bad.incidents.pop();
    assert.throws(
      () => validateRunbook(bad),
      (e: unknown) => {
        assert.ok(e instanceof RunbookError);
        const text = e.problems.join('\n');
        for (const want of ['incidents[1].severity', 'incidents[2].steps[0].run: must be a command line starting with "dr "', 'incidents[3].steps[1]: exactly one of run', 'incidents[4].rto_minutes', 'incidents[5].extra: unknown key', 'incidents: INC-008 is missing']) {
          assert.ok(text.includes(want), `${want} in:\n${text}`);
        }
        return true;
      },
    );
    assert.throws(() => validateRunbook({ ...doc(), version: 2 }), /version: must be 1/);
  });

  it('every dr command it names exists in the registry, and its flags and arguments parse', async () => {
    const runs = runbook().incidents.flatMap((i) => [...i.steps, ...i.verification].filter((s) => s.run).map((s) => ({ id: i.id, run: s.run! })));
    assert.ok(runs.length >= 30, `${runs.length} commands`);
    for (const { id, run } of runs) {
      const words = splitCommandLine(run);
      assert.equal(words[0], 'dr');
      const found = resolveCommand(words.slice(1));
      assert.ok(found, `${id}: '${run}' is not a dr command`);
      const command = await COMMANDS[found.name]();
      assert.doesNotThrow(() => parseFlags(found.rest, command.flags, {}, command.args), `${id}: ${run}`);
    }
  });

  it("the README's incident table is the one generated from the runbook (dr runbook --markdown)", async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const m = /<!-- runbook:incidents[^>]*-->\n([\s\S]*?)\n<!-- \/runbook:incidents -->/.exec(readme);
    assert.ok(m, 'README has the runbook:incidents block under "When it is not a region"');
    assert.ok(readme.indexOf('## When it is not a region') < m.index);
    assert.equal(m[1], incidentTable(runbook()), 'regenerate it with: npm run --silent dr -- runbook --markdown');
    const r = await dr(['runbook', '--markdown'], {}, { cwd: ROOT });
    assert.equal(r.stdout.trimEnd(), m[1]);
  });
});

describe('runbook: every alarm the program declares maps to an incident', () => {
  const roles: Array<[string, () => ReturnType<typeof runStack>]> = [
    ['primary', () => runStack('primary')],
    ['secondary', () => runStack('secondary')],
    ['promoted secondary', () => runStack('secondary', { [`${P}:database`]: { promoted: true } })],
    ['scratch', () => runStack('scratch')],
    // The backup job as an ECS task declares backup-task-failed instead of the Lambda's error alarm.
    ['primary, backup.runner fargate', () => runStack('primary', { [`${P}:backup`]: { postgresql: { daily: 7, weekly: 28, monthly: 365 }, redis: { daily: 7, weekly: 28, monthly: 365 }, configDays: 90, replicateToPeer: true, runner: 'fargate', cpu: 4096, memoryMb: 16384, ephemeralStorageGb: 200 } })],
  ];
  const declared = new Set<string>();

  for (const [role, run] of roles) {
    it(`${role}: each alarm's description names its incident, and that incident lists the alarm`, async () => {
      const rb = runbook();
      const r = await run();
      const alarms = r.byType('aws:cloudwatch/metricAlarm:MetricAlarm');
      assert.ok(alarms.length >= 2, r.summary());
      for (const a of alarms) {
        const name: string = a.inputs.name;
        const id: string = a.inputs.tags?.[ALARM_ID_TAG];
        assert.ok(id, `${name}: no ${ALARM_ID_TAG} tag`);
        declared.add(id);
        const m = /\(runbook (INC-\d{3}): dr runbook \1\)$/.exec(a.inputs.alarmDescription);
        assert.ok(m, `${name}: description names no incident: ${a.inputs.alarmDescription}`);
        assert.equal(m[1], incidentForAlarm(id));
        const incident = rb.incidents.find((i) => i.id === m[1])!;
        assert.ok(incident.detection.alarms.includes(id), `${m[1]} does not list alarm ${id} in its detection`);
      }
    });
  }

  it('every alarm id the runbook lists is declared by some role', () => {
    const listed = runbook().incidents.flatMap((i) => i.detection.alarms);
    for (const a of listed) assert.ok(declared.has(a), `runbook lists alarm ${a}, which no role declares (${[...declared].join(', ')})`);
  });

  it('an alarm id without an incident fails loudly', () => {
    assert.throws(() => incidentForAlarm('new-alarm'), /no runbook incident; add it to lib\/runbook\.ts/);
  });
});

describe('dr runbook', () => {
  it('the index: every incident with severity, RTO and RPO, and the escalation matrix of each stack', async () => {
    const r = await dr(['runbook', '--json'], {}, { cwd: ROOT });
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.deepEqual(out.incidents.map((i: any) => i.id), [...INCIDENT_IDS]);
    assert.deepEqual(out.escalation.map((e: any) => e.stack), ['primary', 'secondary']);
    assert.deepEqual(out.escalation[0].levels[0], { level: 1, who: 'on-call engineer', contact: 'oncall@example.com', afterMinutes: 0, severities: ['SEV1', 'SEV2', 'SEV3'] });
    const human = await dr(['runbook'], {}, { cwd: ROOT });
    assert.match(human.stdout, /INC-004 {2}SEV1 {2}RTO 1 h +RPO 15 min +Region lost/);
    assert.match(human.stdout, /Escalation \(alerts\.escalation of primary, secondary\):\n {2}1\. on-call engineer — oncall@example\.com — at once/);
  });

  it('one incident: detection with the alarm names, the commands in order, verification, the escalation for its severity', async () => {
    const r = await dr(['runbook', 'inc-007'], {}, { cwd: ROOT });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^INC-007 Backups failing or unverified — SEV3/);
    assert.match(r.stdout, /alarms: botdr-us-east-1-backup-age-postgresql-daily, /);
    assert.match(r.stdout, /1\. \$ dr backups check --verified-within 8\n/);
    assert.match(r.stdout, /for SEV3:\n {2}1\. on-call engineer[^\n]*\n(?! {2}2\.)/, 'only the levels SEV3 reaches');
    const j = await dr(['runbook', 'INC-005', '--json', '--stack', 'primary'], {}, { cwd: ROOT });
    assert.equal(j.json().incident.id, 'INC-005');
    assert.equal(j.json().severity.level, 'SEV2');
    assert.equal(j.json().escalation.length, 1);
  });

  it('an unknown incident, a missing runbook and a bad escalation matrix are usage errors', async () => {
    const unknown = await dr(['runbook', 'INC-099'], {}, { cwd: ROOT });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no incident 'INC-099'; the runbook has INC-001, INC-002/);
    const dir = makeTempDir('dr-runbook-');
    try {
      const none = await dr(['runbook', '--work-dir', dir], {});
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no runbook\.yaml in/);
      fs.copyFileSync(path.join(ROOT, 'runbook.yaml'), path.join(dir, 'runbook.yaml'));
      fs.writeFileSync(path.join(dir, 'Pulumi.x.yaml'), 'config:\n  bot-platform-dr:alerts:\n    escalation:\n      - { level: 2, who: a, contact: nope, afterMinutes: 5 }\n');
      const bad = await dr(['runbook', '--work-dir', dir], {});
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /Pulumi\.x\.yaml: bot-platform-dr:alerts\.escalation\[0\]\.level: must be 1.*contact: must be an email address, an https:\/\/ URL or a phone number.*afterMinutes: must be 0 for the first level/);
    } finally {
      removeDir(dir);
    }
  });
});

describe('alerts.escalation in stack config (lib/config.ts)', () => {
  const esc = (v: unknown) => readEscalation(mapConfigSource({ [`${P}:alerts`]: { escalation: v } }));
  it('accepts the matrix of the committed stack files and defaults severities to all', () => {
    const { levels, problems } = esc([{ level: 1, who: 'on-call', contact: '+44 20 7946 0000', afterMinutes: 0 }, { level: 2, who: 'lead', contact: 'lead@example.com', afterMinutes: 10, severities: ['SEV1'] }]);
    assert.deepEqual(problems, []);
    assert.deepEqual(levels.map((l) => l.severities), [['SEV1', 'SEV2', 'SEV3'], ['SEV1']]);
    assert.deepEqual(esc(undefined), { levels: [], problems: [] });
  });
  it('refuses levels out of order, going back in time, unknown severities and keys', () => {
    const { problems } = esc([
      { level: 1, who: 'a', contact: 'a@example.com', afterMinutes: 30 },
      { level: 3, who: 'b', contact: 'b@example.com', afterMinutes: 5, severities: ['SEV4'], pager: true },
    ]);
    const text = problems.map((p) => `${p.key}: ${p.message}`).join('\n');
    for (const want of ['escalation[0].afterMinutes: must be 0', 'escalation[1].level: must be 2', "escalation[1].afterMinutes: must not be before the previous level's (30)", 'escalation[1].severities: "SEV4"', 'escalation[1].pager: unknown key']) {
      assert.ok(text.includes(want), `${want} in:\n${text}`);
    }
    assert.match(esc('oncall').problems[0].message, /must be a list/);
  });
});

describe('notifications link their runbook incident', () => {
  const notice = { kind: 'finished' as const, id: 'f1', mode: 'unplanned' as const, from: 'us-east-1', to: 'us-west-2', message: 'done', steps: [] };
  it('failover notices (SNS body and the local log): datacenter → INC-004, database → INC-002, cache → INC-003', () => {
    assert.match(noticeBody({ ...notice, incident: 'datacenter' }), /\n\nrunbook: INC-004 — dr runbook INC-004$/);
    assert.match(noticeBody({ ...notice, incident: 'database' }), /runbook: INC-002 — dr runbook INC-002$/);
    assert.match(noticeBody({ ...notice, incident: 'cache' }), /runbook: INC-003 — dr runbook INC-003$/);
    const dir = makeTempDir('dr-notice-');
    try {
      const file = path.join(dir, 'n.log');
      void new LocalNotifier(file).notify({ ...notice, incident: 'datacenter' });
      assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).runbook, 'runbook: INC-004 — dr runbook INC-004');
    } finally {
      removeDir(dir);
    }
  });

  it('backup alerts: a failed backup → INC-007, a suspiciously small one → INC-005; bot-token notices → INC-006', async () => {
    const alerts: string[] = [];
    let fail = true;
    const tools: PgTools = {
      versions: async () => ({}),
      inspect: async () => ({ serverVersion: '16', serverVersionNum: 160000, database: 'bot', host: 'db:5432' }),
      openSnapshot: async () => ({ snapshotId: 's', countTables: async () => ({}), close: async () => undefined }),
      dump: () => ({ stdout: Readable.from([Buffer.alloc(fail ? 10 : 10_000, 1)]), done: fail ? Promise.reject(new Error('pg_dump: connection lost')) : Promise.resolve(), kill: () => undefined }),
      restore: async () => undefined,
      tableCounts: async () => ({}),
      userTableCount: async () => 0,
      ping: async () => 1,
      replicaLag: async () => ({ inRecovery: true, lagBytes: 0, lagSeconds: 0 }),
    };
    let t = Date.parse('2026-01-05T03:00:00Z');
    const deps = { store: new MemoryStore(), clock: fixedClock(() => new Date(t)), keep: { daily: 7, weekly: 4, monthly: 12 }, metrics: { publish: async () => undefined }, notifier: { notify: async (_s: string, m: string) => void alerts.push(m) }, log: () => undefined, pg: { url: 'postgresql://u:p@db/bot', tools }, where: 'test' };
    await assert.rejects(runBackupJob({ service: 'postgresql', tier: 'daily' }, deps));
    assert.match(alerts[0], /\n\nrunbook: INC-007 — dr runbook INC-007$/);
    fail = false;
    await runBackupJob({ service: 'postgresql', tier: 'daily' }, deps);
    t += 86_400_000;
    tools.dump = () => ({ stdout: Readable.from([Buffer.alloc(100, 1)]), done: Promise.resolve(), kill: () => undefined });
    await runBackupJob({ service: 'postgresql', tier: 'daily' }, deps);
    assert.match(alerts.at(-1) ?? '', /suspiciously|smaller[\s\S]*runbook: INC-005 — dr runbook INC-005$/);
    const token = { kind: 'switch' as const, bot: 'b', platform: 'telegram' as const, id: 'd1', from: 0, to: 1, reason: 'revoked' as const, by: 'x', at: 'now', message: 'switched' };
    assert.match(tokenNoticeBody(token as Parameters<typeof tokenNoticeBody>[0]), /runbook: INC-006 — dr runbook INC-006$/);
  });
});
