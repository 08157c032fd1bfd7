/**
 * The readiness Lambda end to end with fakes (automation/lambda/readiness.ts): its environment parsed, one engine run
 * over both regions on aws-sdk-client-mock clients (test/helpers/readiness-aws.ts), the bots probed from this region
 * against the fake Telegram and Discord servers on 127.0.0.1, then DrReady and DrCheckFailed published and the report
 * stored under readiness/<region>/ — the exact PutMetricData and PutObject requests.
 */
import assert from 'node:assert/strict';
import { PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { FakeDiscord } from '../../automation/adapters/rehearsal/fake-discord';
import { FakeTelegram } from '../../automation/adapters/rehearsal/fake-telegram';
import { fixedClock } from '../../automation/core/clock';
import { OperationError } from '../../automation/core/errors';
import { runReadinessLambda } from '../../automation/lambda/readiness';
import { checksFor } from '../../automation/readiness/index';
import { ReadinessEnvError } from '../../lib/readiness';
import { A, B, BUCKET, DC, jobsWorld, NOW, targets, TG, world } from '../helpers/readiness-aws';

describe('lambda: readiness (end to end over mocked AWS and the fake platforms)', () => {
  let tg: FakeTelegram;
  let dc: FakeDiscord;
  let w: ReturnType<typeof world>;
  let j: ReturnType<typeof jobsWorld>;
  const logs: string[] = [];
  before(async () => {
    tg = await new FakeTelegram().start();
    dc = await new FakeDiscord().start();
  });
  after(async () => {
    await tg.stop();
    await dc.stop();
  });
  beforeEach(() => {
    for (const t of TG) tg.addToken(t).restore(t);
    for (const t of DC) dc.addToken(t).restore(t);
    tg.method('getWebhookInfo', () => ({ ok: true, result: { url: 'https://bot.example.com/telegram/community', has_custom_certificate: false, pending_update_count: 0 } }));
    dc.setInteractionsEndpoint(DC[0], 'https://bot-usw2.example.com/discord/interactions');
    w = world();
    j = jobsWorld();
    w.m.cw[B].on(PutMetricDataCommand).resolves({});
    w.m.s3[B].on(PutObjectCommand).resolves({});
    logs.length = 0;
  });
  afterEach(() => {
    w.restore();
    j.restore();
  });

  const env = (over: Record<string, string | undefined> = {}) => ({ DR_REGION: B, READINESS_TARGETS: JSON.stringify(targets()), READINESS_BUCKET: BUCKET[B], DR_TELEGRAM_API_URL: tg.url, DR_DISCORD_API_URL: dc.api, ...over });
  const run = (e = env()) => runReadinessLambda(e, { ...w.clients, ...j.clients }, { clock: fixedClock(() => NOW), log: (l) => logs.push(l) });
  const published = (): MetricDatum[] => w.m.cw[B].commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
  const AWS_CHECKS = checksFor('aws').map((c) => c.name);

  it('a ready pair: DrReady 2 and DrCheckFailed 0 for every check in one PutMetricData; the report in readiness/us-west-2/ (latest and the day)', async () => {
    const r = await run();
    assert.equal(r.verdict, 'ready', JSON.stringify(r.failed.concat(r.warned)));
    assert.equal(r.region, B);
    const puts = w.m.cw[B].commandCalls(PutMetricDataCommand);
    assert.equal(puts.length, 1);
    assert.equal(puts[0].args[0].input.Namespace, 'BotDR/Readiness');
    const [ready, ...perCheck] = published();
    assert.deepEqual({ ...ready, Timestamp: undefined }, { MetricName: 'DrReady', Dimensions: [{ Name: 'Region', Value: B }], Value: 2, Unit: 'None', Timestamp: undefined });
    assert.deepEqual(perCheck.map((d) => d.Dimensions?.find((x) => x.Name === 'Check')?.Value), AWS_CHECKS);
    assert.ok(perCheck.every((d) => d.MetricName === 'DrCheckFailed' && d.Value === 0 && d.Dimensions?.[0].Value === B));
    assert.equal(r.datums, 1 + AWS_CHECKS.length);
    // Nothing published in the other region.
    assert.equal(w.m.cw[A].commandCalls(PutMetricDataCommand).length, 0);
    const objects = w.m.s3[B].commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    assert.deepEqual(objects.map((o) => [o.Bucket, o.Key, o.ContentType]), [
      [BUCKET[B], 'readiness/us-west-2/latest.json', 'application/json'],
      [BUCKET[B], 'readiness/us-west-2/2026-11-22.json', 'application/json'],
    ]);
    const stored = JSON.parse(String(objects[0].Body)) as { verdict: string; from: string; checks: Array<{ name: string }> };
    assert.equal(stored.verdict, 'ready');
    assert.equal(stored.from, B, 'the bots were probed from this region');
    assert.ok(stored.checks.length >= AWS_CHECKS.length);
    // Every observation counted: the 39 of the pair, 2 KMS keys, the image, 1 function, 2 schedules (the publish is not an observation).
    assert.equal(r.calls.aws, 45);
    const all = JSON.stringify({ r, logs, body: objects.map((o) => String(o.Body)) });
    for (const t of [...TG, ...DC]) assert.ok(!all.includes(t), 'no token in the result, the logs or the report');
    assert.match(logs.join('\n'), /"msg":"readiness","region":"us-west-2","verdict":"ready"/);
  });

  it('not ready (a schedule left ENABLED in the standby region): DrReady 0, DrCheckFailed 1 for jobs.schedules; a result, not an error', async () => {
    j.m.scheduler[B].on(GetScheduleCommand).resolves({ Name: 'botdr-usw2-postgresql-daily', State: 'ENABLED' });
    const r = await run();
    assert.equal(r.verdict, 'not-ready');
    assert.deepEqual(r.failed, ['jobs.schedules']);
    const d = published();
    assert.equal(d[0].Value, 0);
    assert.deepEqual(d.filter((x) => x.Value !== 0 && x.MetricName === 'DrCheckFailed').map((x) => [x.Dimensions?.[1].Value, x.Value]), [['jobs.schedules', 1]]);
    assert.equal(JSON.parse(String(w.m.s3[B].commandCalls(PutObjectCommand)[0].args[0].input.Body)).verdict, 'not-ready');
  });

  it('a wrong environment: every problem named at once, nothing observed or published', async () => {
    await assert.rejects(run(env({ DR_REGION: 'mars-1', READINESS_BUCKET: '', READINESS_TARGETS: '{' })), (err: unknown) => {
      assert.ok(err instanceof ReadinessEnvError);
      assert.deepEqual(err.problems.map((p) => p.split(':')[0].split(' ')[0]), ['DR_REGION', 'READINESS_TARGETS', 'READINESS_BUCKET']);
      return true;
    });
    assert.equal(w.m.rds[A].calls().length + w.m.cw[B].calls().length + w.m.s3[B].calls().length, 0);
  });

  it('the metrics cannot be published: the invocation fails (the function Errors metric), naming the verdict', async () => {
    w.m.cw[B].on(PutMetricDataCommand).rejects(Object.assign(new Error('User is not authorized to perform: cloudwatch:PutMetricData'), { name: 'AccessDenied' }));
    await assert.rejects(run(), (err: unknown) => err instanceof OperationError && /readiness in us-west-2: the ready result could not be published or stored: .*AccessDenied/.test(err.message));
    assert.equal(w.m.s3[B].commandCalls(PutObjectCommand).length, 0);
  });
});
