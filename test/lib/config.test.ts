import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { loadStackFile } from '../helpers/pulumi';
import * as pulumi from '@pulumi/pulumi';
import { CONFIG_KEYS, ConfigError, DEFAULTS, loadConfig, mapConfigSource, StackConfig } from '../../lib/config';
import { cacheReplicationGroupId, dbIdentifier, postgresParameterGroupFamily, redisParameterGroupFamily, regionShortName } from '../../lib/naming';
import { telegramToken } from '../helpers/token-fakes';

const P = 'bot-platform-dr';
/** Realistic (Telegram-shaped) tokens: the loader checks each token's shape. */
const TG = [telegramToken('config-community-0'), telegramToken('config-community-1'), telegramToken('config-mod-0')];
const base = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  [`${P}:role`]: 'primary',
  'aws:region': 'us-east-1',
  [`${P}:peerRegion`]: 'us-west-2',
  [`${P}:peerStack`]: 'acme/bot-platform-dr/secondary',
  [`${P}:bots`]: ['community'],
  [`${P}:botTokens`]: { community: [TG[0], TG[1]] },
  ...over,
});

function load(over: Record<string, unknown> = {}): StackConfig {
  return loadConfig(mapConfigSource(base(over)));
}

function problems(over: Record<string, unknown>): ConfigError {
  try {
    load(over);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

function assertProblem(err: ConfigError, key: string, re: RegExp): void {
  const p = err.problems.find((x) => x.key === key);
  assert.ok(p, `no problem for ${key}; got ${err.message}`);
  assert.match(p.message, re);
  assert.ok(err.message.includes(key), 'the thrown message names the key');
}

const secretValue = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((res) => o.apply((v) => res(v)));

describe('config: loadConfig', () => {
  it('applies defaults for every optional key', () => {
    const c = load();
    assert.equal(c.role, 'primary');
    assert.equal(c.namePrefix, DEFAULTS.namePrefix);
    assert.deepEqual(c.network, { mode: 'create', vpcCidr: '10.40.0.0/16', azCount: 2 });
    assert.equal(c.database.backupRetentionDays, 14);
    assert.equal(c.database.parameterGroupFamily, 'postgres16');
    assert.equal(c.database.deletionProtection, true);
    assert.equal(c.cache.replicas, 1);
    assert.deepEqual(c.backup.postgresql, { daily: 7, weekly: 28, monthly: 365 });
    assert.deepEqual(c.backup.redis, { daily: 7, weekly: 28, monthly: 365 });
    assert.equal(c.backup.configDays, 90);
    assert.equal(c.backup.objectLock, undefined);
    assert.equal(c.dns, undefined);
    assert.deepEqual(c.alerts.emails, []);
    assert.equal(c.alerts.replicaLagSeconds, 900);
  });

  it('bot tokens become secret Outputs, several per bot', async () => {
    const c = load();
    assert.equal(c.bots.length, 1);
    assert.equal(c.bots[0].name, 'community');
    assert.equal(c.bots[0].tokenCount, 2);
    assert.equal(await pulumi.isSecret(c.bots[0].tokens), true);
    assert.deepEqual(await secretValue(c.bots[0].tokens), [TG[0], TG[1]]);
  });

  it('reads structured config (existing VPC, DNS, object lock, scratch)', () => {
    const c = load({
      [`${P}:network`]: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'] },
      [`${P}:dns`]: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'bot.example.com', endpoint: 'app-use1.example.com' },
      [`${P}:backup`]: { objectLock: { mode: 'COMPLIANCE', days: 7 }, postgresql: { daily: 10 } },
      [`${P}:database`]: { engineVersion: '15.7', backupRetentionDays: '21' },
    });
    assert.deepEqual(c.network, { mode: 'existing', vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'] });
    assert.equal(c.dns?.ttl, 60);
    assert.equal(c.dns?.healthCheckPath, '/healthz');
    assert.deepEqual(c.backup.objectLock, { mode: 'COMPLIANCE', days: 7 });
    assert.deepEqual(c.backup.postgresql, { daily: 10, weekly: 28, monthly: 365 });
    assert.equal(c.database.parameterGroupFamily, 'postgres15');
    assert.equal(c.database.backupRetentionDays, 21);
  });

  it('scratch: forces deletion protection and peer replication off, reads restore source', () => {
    const c = load({ [`${P}:role`]: 'scratch', [`${P}:peerStack`]: undefined, [`${P}:scratch`]: { restoreFrom: 'point-in-time', restoreTime: '2024-05-01T12:00:00+02:00', sourceDbIdentifier: 'botdr-use1-pg' } });
    assert.equal(c.database.deletionProtection, false);
    assert.equal(c.backup.replicateToPeer, false);
    assert.deepEqual(c.scratch, { restoreFrom: 'point-in-time', restoreTime: '2024-05-01T10:00:00Z', sourceDbIdentifier: 'botdr-use1-pg', sourceDbAutomatedBackupsArn: undefined });
    const latest = load({ [`${P}:role`]: 'scratch', [`${P}:scratch`]: { restoreFrom: 'latest-snapshot', sourceDbIdentifier: 'botdr-use1-pg' } });
    assert.equal(latest.scratch?.restoreFrom, 'latest-snapshot');
  });

  describe('rejects bad config, naming the key and what is allowed', () => {
    it('peer region equal to region', () => assertProblem(problems({ [`${P}:peerRegion`]: 'us-east-1' }), `${P}:peerRegion`, /must differ from aws:region/));
    it('unknown role', () => assertProblem(problems({ [`${P}:role`]: 'tertiary' }), `${P}:role`, /primary \| secondary \| scratch/));
    it('retention below 1', () => assertProblem(problems({ [`${P}:backup`]: { redis: { weekly: 0 } } }), `${P}:backup.redis.weekly`, /from 1 to/));
    it('config retention below 1', () => assertProblem(problems({ [`${P}:backup`]: { configDays: 0 } }), `${P}:backup.configDays`, /from 1 to/));
    it('DNS without a hosted zone', () => assertProblem(problems({ [`${P}:dns`]: { recordName: 'bot.example.com', endpoint: 'a.example.com' } }), `${P}:dns.hostedZoneId`, /required/));
    it('secondary without peerStack', () => assertProblem(problems({ [`${P}:role`]: 'secondary', [`${P}:peerStack`]: undefined }), `${P}:peerStack`, /required for role secondary/));
    it('primary replicating without peerStack', () => assertProblem(problems({ [`${P}:peerStack`]: undefined }), `${P}:peerStack`, /replicateToPeer/));
    it('a bot with no token', () => assertProblem(problems({ [`${P}:bots`]: ['community', 'mod'] }), `${P}:botTokens.mod`, /has no token/));
    it('backup retention below 7 days', () => assertProblem(problems({ [`${P}:database`]: { backupRetentionDays: 3 } }), `${P}:database.backupRetentionDays`, /from 7 to 35/));
    it('bad name prefix', () => assertProblem(problems({ [`${P}:namePrefix`]: 'Bot_DR' }), `${P}:namePrefix`, /lowercase/));
    it('existing VPC with a single subnet', () => assertProblem(problems({ [`${P}:network`]: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'] } }), `${P}:network.subnetIds`, /at least 2/));
    it('too many cache replicas', () => assertProblem(problems({ [`${P}:cache`]: { replicas: 6 } }), `${P}:cache.replicas`, /0 to 5/));
    it('global datastore on a burstable node', () => assertProblem(problems({ [`${P}:cache`]: { globalDatastore: true } }), `${P}:cache.nodeType`, /burstable/));
    it('bad object lock mode', () => assertProblem(problems({ [`${P}:backup`]: { objectLock: { mode: 'STRICT', days: 1 } } }), `${P}:backup.objectLock.mode`, /GOVERNANCE \| COMPLIANCE/));
    it('invalid email and non-https webhook', () => {
      const e = problems({ [`${P}:alerts`]: { emails: ['ops@example.com', 'nope'], webhookUrl: 'http://hooks.example.com/x' } });
      assertProblem(e, `${P}:alerts.emails`, /"nope" is not a valid email/);
      assertProblem(e, `${P}:alerts.webhookUrl`, /https/);
    });
    it('bot tokens on a secondary that is not promoted (the active stack owns and replicates them); its bot list is fine', () => {
      const sec = { [`${P}:role`]: 'secondary', [`${P}:peerStack`]: 'acme/bot-platform-dr/primary' };
      // Issue 10: the bot list is not secret and is declared on both stacks (each region's token monitor reads it);
      // only botTokens (the seeds of the secrets the active stack creates) is refused here.
      assertProblem(problems(sec), `${P}:botTokens`, /must not be set on a secondary that is not promoted/);
      assertProblem(problems({ ...sec, [`${P}:bots`]: undefined }), `${P}:botTokens`, /must not be set on a secondary that is not promoted/);
      assertProblem(problems({ ...sec, [`${P}:database`]: { promoted: false } }), `${P}:botTokens`, /database\.promoted=true/);
      assert.ok(!problems(sec).problems.some((p) => p.key === `${P}:bots`), 'the bot list itself is allowed');
      const ok = load({ ...sec, [`${P}:bots`]: [], [`${P}:botTokens`]: {} });
      assert.deepEqual(ok.bots, []);
      const listed = load({ ...sec, [`${P}:botTokens`]: undefined });
      assert.deepEqual(listed.bots.map((b) => [b.name, b.platform, b.tokenCount]), [['community', 'telegram', 0]]);
    });
    it('a promoted secondary may declare bots (it adopts the promoted secrets by name) and needs no token', () => {
      const sec = { [`${P}:role`]: 'secondary', [`${P}:peerStack`]: 'acme/bot-platform-dr/primary', [`${P}:database`]: { promoted: true } };
      const ok = load(sec);
      assert.deepEqual(ok.bots.map((b) => b.name), ['community']);
      // Issue 10: the adopted secret's value belongs to the token engine, so a bot without tokens is fine here; tokens
      // that are given are still checked.
      assert.deepEqual(load({ ...sec, [`${P}:bots`]: ['community', 'mod'] }).bots.map((b) => [b.name, b.tokenCount]), [['community', 2], ['mod', 0]]);
      assertProblem(problems({ ...sec, [`${P}:botTokens`]: { community: ['t-1'] } }), `${P}:botTokens.community[0]`, /Telegram bot token/);
      // Adoption is by name: a name Secrets Manager could read as an ARN suffix is refused there (and only there).
      const ambiguous = { [`${P}:bots`]: ['chess-helper'], [`${P}:botTokens`]: { 'chess-helper': [TG[2]] } };
      assertProblem(problems({ ...sec, ...ambiguous }), `${P}:bots`, /ARN suffix/);
      assert.deepEqual(load(ambiguous).bots.map((b) => b.name), ['chess-helper']);
    });
    it('promoted on a primary', () => assertProblem(problems({ [`${P}:database`]: { promoted: true } }), `${P}:database.promoted`, /only to role secondary/));
    it('unknown nested key (typo)', () => assertProblem(problems({ [`${P}:database`]: { multiAZ: true } }), `${P}:database.multiAZ`, /unknown key; allowed: .*multiAz/));
    it('scratch without a restore source', () => assertProblem(problems({ [`${P}:role`]: 'scratch' }), `${P}:scratch.restoreFrom`, /latest-snapshot \| point-in-time/));
    it('scratch with a bad restore time', () =>
      assertProblem(problems({ [`${P}:role`]: 'scratch', [`${P}:scratch`]: { restoreFrom: 'point-in-time', restoreTime: 'yesterday', sourceDbIdentifier: 'db' } }), `${P}:scratch.restoreTime`, /ISO-8601/));

    it('collects every problem in one error', () => {
      const e = problems({ [`${P}:role`]: 'tertiary', [`${P}:peerRegion`]: 'us-east-1', [`${P}:backup`]: { configDays: 0 } });
      assert.equal(e.problems.length, 3, e.message);
    });

    it('never echoes a token value in an error', () => {
      const e = problems({ [`${P}:bots`]: ['community', 'BAD NAME'], [`${P}:botTokens`]: { community: [TG[0], ''] } });
      assert.ok(!e.message.includes(TG[0]), e.message);
    });
  });
});

describe('naming (pure)', () => {
  it('derives short region names', () => {
    assert.equal(regionShortName('us-east-1'), 'use1');
    assert.equal(regionShortName('us-west-2'), 'usw2');
    assert.equal(regionShortName('ap-southeast-2'), 'apse2');
    assert.equal(regionShortName('eu-central-1'), 'euc1');
    assert.throws(() => regionShortName('mars-1'), /not an AWS region/);
  });
  it('derives parameter group families from engine versions', () => {
    assert.equal(postgresParameterGroupFamily('16.4'), 'postgres16');
    assert.equal(postgresParameterGroupFamily('15'), 'postgres15');
    assert.equal(postgresParameterGroupFamily('9.6.24'), 'postgres9.6');
    assert.equal(redisParameterGroupFamily('7.1'), 'redis7');
    assert.equal(redisParameterGroupFamily('6.2'), 'redis6.x');
    assert.throws(() => postgresParameterGroupFamily('latest'), /not a PostgreSQL engine version/);
  });
  it('keeps names within AWS limits for the longest allowed prefix', () => {
    const prefix = 'a'.repeat(16);
    assert.ok(dbIdentifier(prefix, 'ap-southeast-2', true).length <= 63);
    assert.ok(cacheReplicationGroupId(prefix, 'ap-southeast-2', true).length <= 40);
    assert.equal(dbIdentifier('botdr', 'us-east-1'), 'botdr-use1-pg');
  });
});

describe('config: committed stack files and Pulumi.yaml schema', () => {
  const root = path.join(__dirname, '..', '..');

  for (const stack of ['primary', 'secondary'] as const) {
    it(`Pulumi.${stack}.yaml loads and validates`, async () => {
      const { config, secretKeys, secretValues } = loadStackFile(path.join(root, `Pulumi.${stack}.yaml`));
      const c = loadConfig(mapConfigSource(config));
      assert.equal(c.role, stack);
      assert.ok(c.peerStack?.endsWith(stack === 'primary' ? '/secondary' : '/primary'));
      if (stack === 'primary') {
        assert.deepEqual(secretKeys, [`${P}:botTokens`]);
        assert.ok(c.bots.length > 0 && c.bots.every((b) => b.tokenCount > 0));
        const tokens = (await Promise.all(c.bots.map((b) => secretValue(b.tokens)))).flat();
        assert.deepEqual(tokens.sort(), [...secretValues].sort());
      } else {
        // The primary owns the bot-token secrets and replicates them here: the secondary sets no token.
        assert.deepEqual(secretKeys, []);
        // Issue 10: it declares the same (non-secret) bot list, for its token monitor and its adoption after a failover.
        const p = loadConfig(mapConfigSource(loadStackFile(path.join(root, 'Pulumi.primary.yaml')).config));
        assert.deepEqual(c.bots.map((b) => [b.name, b.platform, b.channels, b.tokenCount]), p.bots.map((b) => [b.name, b.platform, b.channels, 0]));
      }
    });
  }

  it('the two example stacks are a consistent pair', () => {
    const p = loadConfig(mapConfigSource(loadStackFile(path.join(root, 'Pulumi.primary.yaml')).config));
    const s = loadConfig(mapConfigSource(loadStackFile(path.join(root, 'Pulumi.secondary.yaml')).config));
    assert.equal(p.region, s.peerRegion);
    assert.equal(s.region, p.peerRegion);
    assert.equal(p.cache.globalDatastore, s.cache.globalDatastore);
    assert.equal(p.database.engineVersion, s.database.engineVersion);
    assert.equal(p.dns?.recordName, s.dns?.recordName);
    assert.equal(p.dns?.hostedZoneId, s.dns?.hostedZoneId);
    assert.notEqual(p.dns?.endpoint, s.dns?.endpoint);
    assert.equal(p.namePrefix, s.namePrefix);
    assert.notEqual(p.network.mode === 'create' && p.network.vpcCidr, s.network.mode === 'create' && s.network.vpcCidr, 'distinct VPC CIDRs (peering-ready)');
  });

  const project = () => YAML.parse(fs.readFileSync(path.join(root, 'Pulumi.yaml'), 'utf8'));

  it('Pulumi.yaml declares the project and the TypeScript runtime', () => {
    const proj = project();
    assert.equal(proj.name, P);
    assert.deepEqual(proj.runtime, { name: 'nodejs', options: { typescript: true } });
    assert.equal(proj.main, 'index.ts');
  });

  it('Pulumi.yaml declares exactly the keys lib/config.ts reads, required only where the loader requires them', () => {
    const config: Record<string, any> = project().config;
    assert.deepEqual(Object.keys(config).sort(), Object.keys(CONFIG_KEYS).sort(), 'declared keys = loader keys');
    for (const [key, spec] of Object.entries(CONFIG_KEYS) as [string, { required?: true; secret?: true }][]) {
      const decl = config[key];
      assert.ok(typeof decl.description === 'string' && decl.description.length > 10, `${key} has a description`);
      // The Pulumi CLI reports every declared key without a default as missing from a stack.
      assert.equal('default' in decl, !spec.required, `${key}: ${spec.required ? 'required, so no default' : 'optional, so it needs a default'}`);
      assert.equal(decl.secret === true, spec.secret === true, `${key}: secret flag`);
      // Pulumi's project schema only knows these types; structured keys stay untyped.
      if (decl.type !== undefined) assert.ok(['string', 'integer', 'boolean', 'array'].includes(decl.type), `${key}: type ${decl.type}`);
      if (decl.type === 'array') assert.ok(decl.items?.type, `${key}: array needs items`);
    }
    assert.equal(config.namePrefix.default, DEFAULTS.namePrefix);
    assert.deepEqual(config.bots.default, []);
    for (const k of ['network', 'database', 'cache', 'backup', 'dns', 'alerts', 'scratch', 'tags', 'botTokens']) {
      assert.deepEqual(config[k].default, {}, `${k} defaults to an empty object`);
    }
  });

  it('Pulumi.yaml documents every field of each structured key, with the loader\'s defaults', () => {
    const config: Record<string, any> = project().config;
    for (const [key, spec] of Object.entries(CONFIG_KEYS) as [string, { fields?: readonly string[] }][]) {
      for (const f of spec.fields ?? []) assert.match(config[key].description, new RegExp(`\\b${f}\\b`), `${key}.${f} documented`);
    }
    // Every default leaf appears right after its field name, e.g. "backupRetentionDays: 14", "vpcCidr: 10.40.0.0/16".
    const leaves = (prefix: string, o: Record<string, unknown>): [string, string, unknown][] =>
      Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? leaves(prefix, v as Record<string, unknown>) : [[prefix, k, v] as [string, string, unknown]]));
    const documented: [string, Record<string, unknown>][] = [
      ['network', DEFAULTS.network],
      ['database', DEFAULTS.database],
      ['cache', DEFAULTS.cache],
      ['backup', DEFAULTS.backup],
      ['dns', DEFAULTS.dns],
      ['alerts', DEFAULTS.alerts],
    ];
    for (const [key, defaults] of documented) {
      for (const [, field, value] of leaves(key, defaults)) {
        const escaped = String(value).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        const re = new RegExp(`\\b${field}\\b[^,;{}]*?["(: ]${escaped}(["),;} \\n]|$)`);
        assert.match(config[key].description, re, `${key}.${field} default ${String(value)} documented`);
      }
    }
  });

  /** What the Pulumi CLI does before running the program: fill defaults, refuse undeclared or missing keys. */
  function mergeLikePulumi(stackConfig: Record<string, unknown>): Record<string, unknown> {
    const decl: Record<string, any> = project().config;
    const undeclared = Object.keys(stackConfig).filter((k) => k.startsWith(`${P}:`) && !(k.slice(P.length + 1) in decl));
    assert.deepEqual(undeclared, [], 'stack keys not defined by the project configuration');
    const merged = { ...stackConfig };
    const missing: string[] = [];
    for (const [key, d] of Object.entries(decl)) {
      if (merged[`${P}:${key}`] !== undefined) continue;
      if ('default' in d) merged[`${P}:${key}`] = d.default;
      else missing.push(key);
    }
    assert.deepEqual(missing, [], 'the Pulumi CLI would report these configuration values missing');
    return merged;
  }

  it('each committed stack file, merged with the project defaults as the CLI does, has no missing key and loads', () => {
    for (const stack of ['primary', 'secondary'] as const) {
      const { config } = loadStackFile(path.join(root, `Pulumi.${stack}.yaml`));
      assert.equal(loadConfig(mapConfigSource(mergeLikePulumi(config))).role, stack);
    }
  });

  it('a minimal scratch stack (role, regions, restore source) needs nothing else and gets the loader defaults', () => {
    const minimal = {
      'aws:region': 'us-east-1',
      [`${P}:role`]: 'scratch',
      [`${P}:peerRegion`]: 'us-west-2',
      [`${P}:scratch`]: { restoreFrom: 'latest-snapshot', sourceDbIdentifier: 'botdr-use1-pg' },
    };
    const c = loadConfig(mapConfigSource(mergeLikePulumi(minimal)));
    assert.equal(c.peerStack, undefined);
    assert.deepEqual(c.bots, []);
    assert.equal(c.dns, undefined);
    assert.deepEqual(c.tags, {});
    assert.equal(c.database.backupRetentionDays, DEFAULTS.database.backupRetentionDays);
    assert.deepEqual(c.backup.postgresql, DEFAULTS.backup.postgresql);
  });

  it('role and peerRegion are the only keys a stack must set', () => {
    assert.throws(() => mergeLikePulumi({ 'aws:region': 'us-east-1' }), (e: Error) => /role/.test(e.message) && /peerRegion/.test(e.message));
  });
});
