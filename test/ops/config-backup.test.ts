import assert from 'node:assert/strict';
import * as path from 'node:path';
import { backupConfig, listConfigVersions, PERMISSIONS_FILE, restoreConfig } from '../../automation/ops/config-backup';
import type { PermissionMatrix } from '../../automation/tokens';
import { UsageError, VerificationError } from '../../automation/core/errors';
import { registerSecret } from '../../automation/core/redact';
import { configDeps } from '../../automation/cli/commands/config-backup';
import { stackDeps } from '../../automation/cli/commands/deploy';
import { dr } from '../helpers/cli';
import { FakeWorld, drPairProgram } from '../helpers/fake-stacks';
import { MemoryStore } from '../helpers/memory-store';

const P = 'acme/bot-platform-dr/primary';
const S = 'acme/bot-platform-dr/secondary';
const SETTINGS = `config:\n  aws:region: us-east-1\n  bot-platform-dr:role: primary\n  bot-platform-dr:botTokens:\n    community:\n      - secure: v1:AAAABBBBciphertextOfTheToken==\nencryptionsalt: v1:salt123\n`;
const TOKEN = '123456789:AAFakeTelegramTokenValue';

function setup() {
  const world = new FakeWorld(drPairProgram);
  const p = world.add(P, { 'bot-platform-dr:role': 'primary' });
  p.settings = SETTINGS;
  p.deployed = { fingerprint: 'f1', resources: 40 };
  p.outs = { bucketName: 'botdr-use1-backups', region: 'us-east-1' };
  const s = world.add(S, { 'bot-platform-dr:role': 'secondary' });
  s.settings = SETTINGS.replace('us-east-1', 'us-west-2').replace('role: primary', 'role: secondary');
  s.deployed = { fingerprint: 'f2', resources: 38 };
  s.outs = { bucketName: 'botdr-usw2-backups', region: 'us-west-2' };
  const east = new MemoryStore('s3://botdr-use1-backups');
  const west = new MemoryStore('s3://botdr-usw2-backups');
  return { world, p, s, east, west, stores: [{ name: 'us-east-1', store: east }, { name: 'us-west-2', store: west }] };
}
const now = new Date('2026-05-01T10:20:30Z');

/** A rights matrix: the community bot's token 1 in one channel is ok or lacks Delete messages. */
function matrix(at: string, token1: 'ok' | 'missing'): PermissionMatrix {
  return {
    checked_at: at,
    bots: [
      {
        bot: 'community',
        platform: 'telegram',
        tokens: [0, 1].map((index) => ({
          index,
          account: `@community_${index}_bot`,
          state: 'checked' as const,
          channels: [index === 1 && token1 === 'missing' ? { channel: '-1001', state: 'missing' as const, ok: false, missing: ['can_delete_messages'], status: 'administrator', action: 'give @community_1_bot the administrator right Delete messages in -1001' } : { channel: '-1001', state: 'ok' as const, ok: true, missing: [], status: 'administrator' }],
        })),
      },
    ],
  };
}

describe('dr backup config / dr restore config', () => {
  it('backs up each stack\'s state and settings to both regions under config/<stack>/<version>/ with a sha256 manifest written last', async () => {
    const { world, east, west, stores } = setup();
    const r = await backupConfig({ driver: world, stacks: [P, S], stores, now });
    assert.equal(r.ok, true);
    assert.equal(r.version, '20260501_102030');
    for (const store of [east, west]) {
      const keys = [...store.objects.keys()].sort();
      assert.deepEqual(keys, [
        `config/${P}/20260501_102030/Pulumi.primary.yaml`,
        `config/${P}/20260501_102030/manifest.json`,
        `config/${P}/20260501_102030/state.json`,
        `config/${S}/20260501_102030/Pulumi.secondary.yaml`,
        `config/${S}/20260501_102030/manifest.json`,
        `config/${S}/20260501_102030/state.json`,
      ]);
      const order = [...store.objects.keys()].filter((k) => k.includes(P));
      assert.equal(order.at(-1), `config/${P}/20260501_102030/manifest.json`, 'manifest is the commit marker, written last');
      const m = JSON.parse(store.text(`config/${P}/20260501_102030/manifest.json`));
      assert.equal(m.secrets, 'ciphertext');
      assert.equal(m.stack, P);
      assert.match(m.files[0].sha256, /^[0-9a-f]{64}$/);
      // Encrypted exactly as Pulumi stores it: the settings file byte for byte, the state's ciphertext untouched.
      assert.equal(store.text(`config/${P}/20260501_102030/Pulumi.primary.yaml`), SETTINGS);
      assert.match(store.text(`config/${P}/20260501_102030/state.json`), /v1:c2VjcmV0LWNpcGhlcnRleHQ=/);
    }
  });

  it('a region whose bucket fails is reported; the other still gets its copy (exit 1 through the CLI)', async () => {
    const { world, east, west, stores } = setup();
    west.failPuts = true;
    const r = await backupConfig({ driver: world, stacks: [P], stores, now });
    assert.equal(r.ok, false);
    assert.deepEqual(r.stacks[0].locations.map((l) => l.ok), [true, false]);
    assert.match(r.stacks[0].locations[1].error!, /ETIMEDOUT/);
    assert.ok(east.objects.size === 3);
  });

  it('restore verifies the checksums, then writes the settings and imports the state (latest version)', async () => {
    const { world, p, east, stores } = setup();
    await backupConfig({ driver: world, stacks: [P], stores, now: new Date('2026-04-01T00:00:00Z') });
    await backupConfig({ driver: world, stacks: [P], stores, now });
    assert.deepEqual(await listConfigVersions(east, P), ['20260401_000000', '20260501_102030']);
    p.settings = 'config: {}\n';
    p.deployed = undefined;
    p.stateSecret = 'lost';
    world.calls.length = 0;
    const r = await restoreConfig({ driver: world, stack: P, store: east });
    assert.equal(r.version, '20260501_102030');
    assert.equal(r.imported, true);
    assert.equal(p.settings, SETTINGS);
    assert.deepEqual(p.deployed, { fingerprint: 'f1', resources: 40 });
    assert.equal(p.stateSecret, 'v1:c2VjcmV0LWNpcGhlcnRleHQ=');
    assert.deepEqual(world.calls.filter((c) => /write-settings|import/.test(c)), [`write-settings ${P}`, `import ${P}`]);
  });

  it('restore into a fresh backend creates the stack', async () => {
    const { world, east, stores } = setup();
    await backupConfig({ driver: world, stacks: [P], stores, now });
    const fresh = new FakeWorld(drPairProgram);
    await restoreConfig({ driver: fresh, stack: P, store: east, from: '20260501_102030' });
    assert.equal(fresh.stacks.get(P)!.settings, SETTINGS);
  });

  for (const [what, corrupt] of [
    ['a flipped byte in the state', (k: string, b: Buffer) => (k.endsWith('state.json') ? Buffer.from(b.toString().replace('"version": 3', '"version": 4')) : b)],
    ['an edited settings file', (k: string, b: Buffer) => (k.endsWith('.yaml') ? Buffer.from(b.toString().replace('role: primary', 'role: secondary')) : b)],
  ] as const) {
    it(`refuses on ${what} before touching the stack`, async () => {
      const { world, p, east, stores } = setup();
      await backupConfig({ driver: world, stacks: [P], stores, now });
      for (const [k, b] of east.objects) east.objects.set(k, corrupt(k, b));
      world.calls.length = 0;
      await assert.rejects(restoreConfig({ driver: world, stack: P, store: east }), (err: unknown) => {
        assert.ok(err instanceof VerificationError);
        assert.match(err.message, /refusing to restore .* hashes to sha256:[0-9a-f]{64} .* the manifest says/);
        return true;
      });
      assert.deepEqual(world.calls, [], 'no stack call at all');
      assert.equal(p.settings, SETTINGS);
    });
  }

  it('refuses when a listed file is missing; unknown versions and stacks are usage errors', async () => {
    const { world, east, stores } = setup();
    await backupConfig({ driver: world, stacks: [P], stores, now });
    await assert.rejects(restoreConfig({ driver: world, stack: P, store: east, from: '20200101_000000' }), (e: unknown) => e instanceof UsageError && /available: 20260501_102030/.test(e.message));
    await assert.rejects(restoreConfig({ driver: world, stack: 'other', store: east }), (e: unknown) => e instanceof UsageError && /no config backup of stack other/.test(e.message));
    await assert.rejects(restoreConfig({ driver: world, stack: P, store: east, from: 'yesterday' }), (e: unknown) => e instanceof UsageError && /--from/.test(e.message));
    east.objects.delete(`config/${P}/20260501_102030/state.json`);
    await assert.rejects(restoreConfig({ driver: world, stack: P, store: east }), (e: unknown) => e instanceof VerificationError && /state\.json is missing/.test(e.message));
  });

  it('issue 11: the rights matrix is saved beside the state (in the manifest, verified on restore) and read back', async () => {
    const { world, east, stores } = setup();
    const saved = matrix('2026-05-01T10:20:00.000Z', 'missing');
    await backupConfig({ driver: world, stacks: [P], stores, now, extraFiles: [{ name: PERMISSIONS_FILE, body: JSON.stringify(saved), contentType: 'application/json' }] });
    const m = JSON.parse(east.text(`config/${P}/20260501_102030/manifest.json`));
    assert.deepEqual(m.files.map((f: { name: string }) => f.name), ['state.json', 'Pulumi.primary.yaml', 'permissions.json']);
    const r = await restoreConfig({ driver: world, stack: P, store: east, verifyOnly: true });
    assert.deepEqual(r.permissions, saved);
    assert.ok(!east.text(`config/${P}/20260501_102030/permissions.json`).includes('token":"'), 'a token is named by its index only');
    east.objects.set(`config/${P}/20260501_102030/permissions.json`, Buffer.from('{"checked_at":1}'));
    await assert.rejects(restoreConfig({ driver: world, stack: P, store: east, verifyOnly: true }), /permissions\.json hashes to/);
  });

  describe('through the CLI', () => {
    const root = path.join(__dirname, '..', '..');
    const savedDriver = stackDeps.driver;
    const savedStore = configDeps.store;
    const savedPermissions = configDeps.permissions;
    let env: ReturnType<typeof setup>;
    let live: PermissionMatrix | Error;
    beforeEach(() => {
      env = setup();
      stackDeps.driver = () => env.world;
      configDeps.store = (bucket) => (bucket === 'botdr-use1-backups' ? env.east : env.west);
      // The live check is `dr bots check-permissions`' (test/cli/bots-aws.test.ts); here it is what the test says.
      live = new Error('no bots target in this test');
      configDeps.permissions = async () => {
        if (live instanceof Error) throw live;
        return { matrix: live, errors: [], where: 'test' };
      };
    });
    after(() => {
      stackDeps.driver = savedDriver;
      configDeps.store = savedStore;
      configDeps.permissions = savedPermissions;
    });

    it('issue 11: backup config saves the live matrix; restore config prints how the live one differs; a failed check only warns', async () => {
      live = matrix('2026-05-01T10:20:00.000Z', 'missing');
      const b = await dr(['backup', 'config', '--stack', P, '--bucket', 'botdr-use1-backups', '--json'], {}, { cwd: root });
      assert.equal(b.code, 0, b.stderr);
      assert.deepEqual(b.json().permissions, { saved: true, checked_at: '2026-05-01T10:20:00.000Z', cells: 2, missing: 1 });
      assert.ok([...env.east.objects.keys()].some((k) => k.endsWith('/permissions.json')));
      live = matrix('2026-05-02T08:00:00.000Z', 'ok');
      const v = await dr(['restore', 'config', '--stack', P, '--bucket', 'botdr-use1-backups', '--verify-only'], {}, { cwd: root });
      assert.equal(v.code, 0, v.stderr);
      assert.match(v.stdout, /channel rights: 1 cell\(s\) differ from the saved matrix \(2026-05-01T10:20:00\.000Z → live 2026-05-02T08:00:00\.000Z; 1 unchanged\):\n  community token 1 in -1001: missing can_delete_messages → ok/);
      const j = await dr(['restore', 'config', '--stack', P, '--bucket', 'botdr-use1-backups', '--verify-only', '--json'], {}, { cwd: root });
      const p = j.json().permissions;
      assert.deepEqual([p.saved, p.checked_at, p.diff.changes.map((c: { bot: string; token: number; before: string; after: string }) => [c.bot, c.token, c.before, c.after])], [true, '2026-05-01T10:20:00.000Z', [['community', 1, 'missing', 'ok']]]);
      live = new Error('Telegram getMe: cannot reach the Telegram Bot API');
      const down = await dr(['restore', 'config', '--stack', P, '--bucket', 'botdr-use1-backups', '--verify-only'], {}, { cwd: root });
      assert.equal(down.code, 0, 'the live check failing never fails a restore');
      assert.match(down.stdout, /the live channel rights could not be checked: .*cannot reach the Telegram Bot API/);
      const b2 = await dr(['backup', 'config', '--stack', P, '--bucket', 'botdr-usw2-backups', '--json'], {}, { cwd: root });
      assert.equal(b2.code, 0, b2.stderr);
      assert.equal(b2.json().permissions.saved, false);
      assert.match(b2.stderr, /warning: the bots' channel rights are not in this backup: .*cannot reach the Telegram Bot API/);
      assert.ok(![...env.west.objects.keys()].some((k) => k.endsWith('/permissions.json')));
      const skip = await dr(['backup', 'config', '--stack', P, '--bucket', 'botdr-usw2-backups', '--skip-permissions', '--json'], {}, { cwd: root });
      assert.deepEqual(skip.json().permissions, { saved: false, error: 'skipped (--skip-permissions)' });
      assert.ok(!skip.stderr.includes('not in this backup'));
    });

    it('backup config defaults to both stacks and both stacks\' buckets; restore config --verify-only then --yes', async () => {
      const b = await dr(['backup', 'config', '--primary-stack', P, '--secondary-stack', S, '--json'], {}, { cwd: root });
      assert.equal(b.code, 0, b.stderr);
      const version = b.json().version;
      assert.equal(b.json().stacks.length, 2);
      assert.ok(env.west.objects.size === 6 && env.east.objects.size === 6);
      const v = await dr(['restore', 'config', '--stack', P, '--bucket', 'botdr-usw2-backups@us-west-2', '--verify-only', '--json'], {}, { cwd: '/' });
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.json().imported, false);
      assert.equal(v.json().version, version);
      const r = await dr(['restore', 'config', '--stack', P, '--bucket', 'botdr-use1-backups', '--yes'], {}, { cwd: root });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /restored acme\/bot-platform-dr\/primary config/);
    });

    it('restore config: a corrupt backup exits 1; no --yes without a terminal exits 2; bad flags exit 2', async () => {
      await dr(['backup', 'config', '--stack', P, '--bucket', 'botdr-use1-backups@us-east-1'], {}, { cwd: root });
      for (const [k, b] of env.east.objects) if (k.endsWith('state.json')) env.east.objects.set(k, Buffer.concat([b, Buffer.from(' ')]));
      const bad = await dr(['restore', 'config', '--stack', P, '--bucket', 'botdr-use1-backups', '--yes'], {}, { cwd: root });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /refusing to restore/);
      const noYes = await dr(['restore', 'config', '--stack', P, '--bucket', 'botdr-use1-backups'], {}, { cwd: root });
      assert.equal(noYes.code, 2);
      const badBucket = await dr(['restore', 'config', '--stack', P, '--bucket', 'Not_A_Bucket', '--verify-only'], {}, { cwd: root });
      assert.equal(badBucket.code, 2);
      assert.match(badBucket.stderr, /--bucket 'Not_A_Bucket'/);
      const noStack = await dr(['restore', 'config', '--bucket', 'botdr-use1-backups', '--verify-only'], {}, { cwd: root });
      assert.equal(noStack.code, 2);
      assert.match(noStack.stderr, /--stack is required/);
    });

    it('no secret value reaches the output or the log lines', async () => {
      registerSecret(TOKEN);
      env.p.settings = SETTINGS; // ciphertext only; the token itself never passes through
      const b = await dr(['backup', 'config', '--stack', P, '--bucket', 'botdr-use1-backups'], {}, { cwd: root });
      assert.equal(b.code, 0, b.stderr);
      assert.ok(!(b.stdout + b.stderr).includes(TOKEN));
      for (const body of env.east.objects.values()) assert.ok(!body.toString().includes(TOKEN), 'no plaintext token in the backup');
    });
  });
});
