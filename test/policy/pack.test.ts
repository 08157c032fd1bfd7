/**
 * The pack itself: its policies are named, described and leveled, and docs/policy.md lists each with its level; and
 * the served pack — policy/index.ts started the way Pulumi's policy-pack runner starts it, from policy/, talking the
 * analyzer gRPC protocol — announces exactly those policies and reports a violation through the real framework.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Struct } from 'google-protobuf/google/protobuf/struct_pb';
import { Empty } from 'google-protobuf/google/protobuf/empty_pb';
import * as analyzerRpc from '@pulumi/pulumi/proto/analyzer_grpc_pb';
import * as analyzer from '@pulumi/pulumi/proto/analyzer_pb';
import { DR_POLICIES } from '../../policy/policies';

const ROOT = path.join(__dirname, '..', '..');
const POLICY_DIR = path.join(ROOT, 'policy');

describe('the policy pack', () => {
  it('every policy has a unique kebab-case name, a description and an explicit mandatory or advisory level', () => {
    const names = DR_POLICIES.map((p) => p.name);
    assert.equal(new Set(names).size, names.length);
    for (const p of DR_POLICIES) {
      assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.ok(p.description.length > 20, p.name);
      assert.ok(p.enforcementLevel === 'mandatory' || p.enforcementLevel === 'advisory', `${p.name}: ${p.enforcementLevel}`);
    }
    assert.ok(DR_POLICIES.filter((p) => p.enforcementLevel === 'advisory').length >= 2);
  });

  it('docs/policy.md lists every policy with its level, and no other', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'policy.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z0-9-]+)` \| (mandatory|advisory) \|/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(rows.sort(), DR_POLICIES.map((p) => [p.name, p.enforcementLevel]).sort());
  });

  it('policy/ is a nodejs policy pack whose index.ts serves DR_POLICIES, with its own version and tsconfig', () => {
    assert.match(fs.readFileSync(path.join(POLICY_DIR, 'PulumiPolicy.yaml'), 'utf8'), /^runtime: nodejs$/m);
    const pkg = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, 'package.json'), 'utf8')) as { version: string; main: string };
    assert.match(pkg.version, /^\d+\.\d+\.\d+$/, 'PolicyPack reads its version from package.json');
    assert.equal(pkg.main, 'index.ts');
    assert.match(fs.readFileSync(path.join(POLICY_DIR, 'index.ts'), 'utf8'), /new PolicyPack\('bot-platform-dr-guardrails', \{[\s\S]*policies: DR_POLICIES/);
    const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] };
    assert.ok(tsconfig.include.includes('policy/**/*.ts'), 'the strict root typecheck covers the pack');
  });
});

describe('the served policy pack (analyzer gRPC, as the Pulumi CLI drives it)', function () {
  this.timeout(120000);
  let child: ChildProcess | undefined;
  let client: InstanceType<typeof analyzerRpc.AnalyzerClient>;

  before(async () => {
    // The runner starts the pack from its directory; ts-node compiles it (transpile-only here, tsc checks it).
    child = spawn(process.execPath, ['-r', 'ts-node/register', 'index.ts'], { cwd: POLICY_DIR, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const port = await new Promise<string>((resolve, reject) => {
      child!.stdout!.on('data', (d) => {
        const m = /^(\d+)\s*$/m.exec(String(d));
        if (m) resolve(m[1]);
      });
      child!.on('exit', (code) => reject(new Error(`the pack exited (${code}): ${stderr}`)));
    });
    client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(() => {
    client?.close();
    if (child && child.exitCode === null) child.kill('SIGTERM');
  });

  const call = <Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void, req: Req) =>
    new Promise<Res>((resolve, reject) => fn.call(client, req, (err, res) => (err ? reject(err) : resolve(res))));

  it('announces exactly the policies of DR_POLICIES, with their levels', async () => {
    const info = await call<Empty, analyzer.AnalyzerInfo>(client.getAnalyzerInfo, new Empty());
    const level = (l: number) => (l === analyzer.EnforcementLevel.MANDATORY ? 'mandatory' : l === analyzer.EnforcementLevel.ADVISORY ? 'advisory' : String(l));
    const served = info.getPoliciesList().map((p) => [p.getName(), level(p.getEnforcementlevel())]);
    assert.equal(info.getName(), 'bot-platform-dr-guardrails');
    assert.deepEqual(served.sort(), DR_POLICIES.map((p) => [p.name, p.enforcementLevel]).sort());
  });

  /** An analyzer resource: type, name, props; `deps` per property (URNs). */
  const resource = (type: string, name: string, props: Record<string, unknown>, deps: Record<string, string[]> = {}) => {
    const r = new analyzer.AnalyzerResource();
    r.setType(type);
    r.setName(name);
    r.setUrn(`urn:pulumi:test::bot-platform-dr::${type}::${name}`);
    r.setProperties(Struct.fromJavaScript(props as Parameters<typeof Struct.fromJavaScript>[0]));
    r.setOptions(new analyzer.AnalyzerResourceOptions());
    const provider = new analyzer.AnalyzerProviderResource();
    provider.setType('pulumi:providers:aws');
    provider.setName('use1');
    provider.setUrn('urn:pulumi:test::bot-platform-dr::pulumi:providers:aws::use1');
    provider.setProperties(Struct.fromJavaScript({ region: 'us-east-1' }));
    r.setProvider(provider);
    for (const [k, urns] of Object.entries(deps)) {
      const d = new analyzer.AnalyzerPropertyDependencies();
      d.setUrnsList(urns);
      r.getPropertydependenciesMap().set(k, d);
    }
    return r;
  };

  it('reports a mandatory stack violation: a backup bucket without access logging (its settings linked by property dependencies)', async () => {
    const bucket = resource('aws:s3/bucket:Bucket', 'backups', { bucket: 'backups', arn: 'arn:aws:s3:::backups', tags: { 'bot-dr:component': 'backup-bucket' } });
    const db = resource('aws:rds/instance:Instance', 'db', { storageEncrypted: true, kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k' });
    const versioning = resource('aws:s3/bucketVersioning:BucketVersioning', 'v', { bucket: 'bucket-id', versioningConfiguration: { status: 'Enabled' } }, { bucket: [bucket.getUrn()] });
    const req = new analyzer.AnalyzeStackRequest();
    req.setResourcesList([bucket, db, versioning]);
    const res = await call<analyzer.AnalyzeStackRequest, analyzer.AnalyzeResponse>(client.analyzeStack, req);
    const found = res.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getEnforcementlevel(), d.getUrn()]);
    assert.ok(found.some(([p, l, u]) => p === 's3-bucket-logging' && l === analyzer.EnforcementLevel.MANDATORY && u === bucket.getUrn()), JSON.stringify(found));
    assert.ok(!found.some(([p]) => p === 's3-versioned'), 'the versioning linked through propertyDependencies counts');
  });

  it('reports a mandatory resource violation: a publicly accessible RDS instance', async () => {
    const req = new analyzer.AnalyzeRequest();
    req.setType('aws:rds/instance:Instance');
    req.setName('db');
    req.setUrn('urn:pulumi:test::bot-platform-dr::aws:rds/instance:Instance::db');
    req.setProperties(Struct.fromJavaScript({ storageEncrypted: true, kmsKeyId: 'k', publiclyAccessible: true, backupRetentionPeriod: 14, deletionProtection: true, finalSnapshotIdentifier: 'f', multiAz: true }));
    req.setOptions(new analyzer.AnalyzerResourceOptions());
    const res = await call<analyzer.AnalyzeRequest, analyzer.AnalyzeResponse>(client.analyze, req);
    // The framework puts the policy's description before the rule's message.
    assert.deepEqual(res.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getEnforcementlevel(), d.getMessage()]), [
      ['rds-no-public-access', analyzer.EnforcementLevel.MANDATORY, 'RDS instances are not publicly accessible.\nRDS instance must not be publicly accessible.'],
    ]);
  });
});
