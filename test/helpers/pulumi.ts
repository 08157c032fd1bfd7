/**
 * Shared Pulumi mocks helper for infra tests (no Pulumi CLI, no AWS).
 *
 *   const run = await runProgram(() => buildProgram(), {
 *     config: { 'bot-platform-dr:role': 'primary', 'aws:region': 'us-east-1' },
 *     secretKeys: ['bot-platform-dr:bots'],
 *     stackRefs: { 'acme/bot-platform-dr/primary': { dbArn: 'arn:...' } },
 *   });
 *   run.one('aws:kms/key:Key').inputs.enableKeyRotation
 *
 * Every run installs a fresh mock monitor and a fresh config map, so several runs in one mocha process
 * are isolated from each other. `runProgram` resolves only after the program's returned outputs are
 * resolved and the runtime's RPC queue has drained, so every resource has been registered.
 */
import * as fs from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import * as YAML from 'yaml';
import { MockMonitor } from '@pulumi/pulumi/runtime/mocks';

export const PROJECT = 'bot-platform-dr';
export const ACCOUNT_ID = '123456789012';

/** One resource registration seen by the mock monitor. */
export interface RecordedResource {
  /** Type token, e.g. `aws:kms/key:Key` or `bot-dr:keys:Keys`. */
  type: string;
  /** Logical name. */
  name: string;
  /**
   * Inputs as the provider receives them (Outputs resolved). Secret values appear as Pulumi's secret
   * envelope `{ <sig>: ..., value }`, so `inputs.x !== plaintext` proves `x` was sent as a secret.
   */
  inputs: Record<string, any>;
  /** The same inputs with secret envelopes replaced by their values. */
  plainInputs: Record<string, any>;
  /** Top-level input names whose value was (or contained) a secret. */
  secretInputs: string[];
  /** State returned by the mock (what the program sees as outputs). */
  state: Record<string, any>;
  /** Physical id returned by the mock. */
  id: string;
  /** True for custom (provider) resources, false for components. */
  custom: boolean;
  /** Provider reference (`urn::id`) if one was passed explicitly or inherited. */
  provider?: string;
  /** Region of that provider (from the provider's `region` input), or the default `aws:region`. */
  region: string;
  /** URN assigned by the monitor. */
  urn?: string;
  /** URN of the parent resource, if any. */
  parentUrn?: string;
}

export interface RunOptions {
  /** Full config map: keys like `bot-platform-dr:role`, `aws:region`. Object values are JSON-encoded. */
  config?: Record<string, unknown>;
  /** Config keys that are secret (as `pulumi config set --secret` would mark them). */
  secretKeys?: string[];
  /** Peer stack outputs by fully qualified stack name, served to `pulumi.StackReference`. */
  stackRefs?: Record<string, Record<string, unknown>>;
  /** Stack name (default `test`). */
  stack?: string;
  /** Extra/overriding invoke mocks by token (e.g. `aws:rds/getSnapshot:getSnapshot`). */
  calls?: Record<string, (inputs: any, region: string) => Record<string, any>>;
  /** Extra state by resource type, merged over the default mock state. */
  state?: Record<string, (r: { name: string; inputs: any; region: string }) => Record<string, any>>;
}

export interface ProgramRun {
  resources: RecordedResource[];
  /** All invokes made (token, inputs, region). */
  calls: { token: string; inputs: any; region: string }[];
  /** Resolved outputs returned by the program (secrets unwrapped). */
  outputs: Record<string, any>;
  /** Names of returned outputs that are marked secret. */
  secretOutputs: string[];
  byType(type: string): RecordedResource[];
  /** Exactly one resource of this type (optionally name-filtered); throws with a helpful list otherwise. */
  one(type: string, name?: RegExp): RecordedResource;
  /** Direct children of a resource. */
  children(parent: RecordedResource): RecordedResource[];
  /** Types recorded, sorted, with counts — handy in assertion messages. */
  summary(): string;
}

type ProgramResult = Record<string, unknown> | void | undefined;

const SECRET_SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

/** Replace Pulumi's secret envelopes with their values; report whether any was found. */
function unwrapSecrets(v: unknown, found: { secret: boolean }): any {
  if (Array.isArray(v)) return v.map((x) => unwrapSecrets(x, found));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG_KEY] === SECRET_SIG) {
      found.secret = true;
      return unwrapSecrets(o.value, found);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x, found)]));
  }
  return v;
}

/** `arn:aws:<service>:<region>:<account>:<rest>` using the type token's module as the service. */
function mockArn(type: string, name: string, region: string): string {
  const mod = type.split(':')[1]?.split('/')[0] ?? 'unknown';
  const kind = (type.split(':')[2] ?? 'resource').toLowerCase();
  switch (mod) {
    case 's3':
      return `arn:aws:s3:::${name}`;
    case 'iam':
      return `arn:aws:iam::${ACCOUNT_ID}:${kind}/${name}`;
    case 'rds':
      return `arn:aws:rds:${region}:${ACCOUNT_ID}:db:${name}`;
    case 'sns':
      return `arn:aws:sns:${region}:${ACCOUNT_ID}:${name}`;
    case 'secretsmanager':
      return `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${name}-AbCdEf`;
    case 'kms':
      return `arn:aws:kms:${region}:${ACCOUNT_ID}:${kind === 'alias' ? 'alias' : 'key'}/${kind === 'alias' ? name : `mock-${name}`}`;
    case 'lambda':
      return `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${name}`;
    case 'sqs':
      return `arn:aws:sqs:${region}:${ACCOUNT_ID}:${name}`;
    default:
      return `arn:aws:${mod}:${region}:${ACCOUNT_ID}:${kind}/${name}`;
  }
}

/** Plausible provider-computed state for the resource types this project uses. */
function defaultState(type: string, name: string, inputs: any, region: string): Record<string, any> {
  const physical: string =
    inputs.identifier ?? inputs.bucket ?? (inputs.bucketPrefix ? `${inputs.bucketPrefix}20240101000000` : undefined) ?? inputs.replicationGroupId ?? (typeof inputs.name === 'string' ? inputs.name : undefined) ?? `${name}-mock`;
  const base: Record<string, any> = { ...inputs, arn: inputs.arn ?? mockArn(type, physical, region) };
  if (inputs.name === undefined && type.startsWith('aws:')) base.name = physical;
  switch (type) {
    case 'aws:kms/key:Key':
      return { ...base, keyId: `mock-${name}`, arn: `arn:aws:kms:${region}:${ACCOUNT_ID}:key/mock-${name}` };
    case 'aws:rds/instance:Instance': {
      const address = `${physical}.c0mock.${region}.rds.amazonaws.com`;
      const out: Record<string, any> = { ...base, identifier: physical, address, endpoint: `${address}:5432`, port: 5432, resourceId: `db-MOCK${name.length}` };
      if (inputs.manageMasterUserPassword) {
        out.masterUserSecrets = [
          { secretArn: `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:rds!db-${physical}-AbCdEf`, kmsKeyId: inputs.masterUserSecretKmsKeyId ?? '', secretStatus: 'active' },
        ];
      }
      return out;
    }
    case 'aws:elasticache/replicationGroup:ReplicationGroup':
      return {
        ...base,
        id: physical,
        primaryEndpointAddress: `master.${physical}.mock.${region.replace(/-/g, '')}.cache.amazonaws.com`,
        readerEndpointAddress: `replica.${physical}.mock.${region.replace(/-/g, '')}.cache.amazonaws.com`,
        port: 6379,
      };
    case 'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup':
      return { ...base, globalReplicationGroupId: `ldgnf-${inputs.globalReplicationGroupIdSuffix ?? name}` };
    case 'aws:s3/bucket:Bucket':
    case 'aws:s3/bucketV2:BucketV2':
      return { ...base, bucket: physical, arn: `arn:aws:s3:::${physical}`, bucketRegionalDomainName: `${physical}.s3.${region}.amazonaws.com`, region };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { ...base, arn: `arn:aws:logs:${region}:${ACCOUNT_ID}:log-group:${physical}` };
    case 'aws:ec2/vpc:Vpc':
      return { ...base, id: `vpc-${name}` };
    case 'aws:route53/healthCheck:HealthCheck':
      return { ...base };
    case 'aws:route53/record:Record':
      return { ...base, fqdn: inputs.name };
    case 'aws:ecr/repository:Repository':
      return { ...base, repositoryUrl: `${ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${physical}` };
    case 'docker:index/image:Image':
      return { ...base, repoDigest: `${inputs.imageName ?? name}@sha256:${'0'.repeat(64)}`, imageName: inputs.imageName ?? name };
    case 'random:index/randomPassword:RandomPassword':
      return { ...base, result: `mock-random-${name}-${'x'.repeat(Math.max(0, (inputs.length ?? 32) - 12 - name.length))}` };
    case 'random:index/randomId:RandomId':
      return { ...base, hex: 'a1b2c3d4', b64Url: 'obLD1A', dec: '2712847316' };
    default:
      return base;
  }
}

/** A tolerable rendering of aws.iam.getPolicyDocument inputs as IAM JSON. */
function policyDocumentJson(inputs: any): string {
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const principals = (ps: any[] | undefined) => {
    if (!ps) return undefined;
    const out: Record<string, unknown> = {};
    for (const p of ps) out[p.type] = p.identifiers.length === 1 ? p.identifiers[0] : p.identifiers;
    return out;
  };
  const statements = (inputs.statements ?? []).map((s: any) => {
    const st: Record<string, unknown> = { Effect: s.effect ?? 'Allow' };
    if (s.sid) st.Sid = s.sid;
    if (s.principals) st.Principal = principals(s.principals);
    if (s.actions) st.Action = s.actions;
    if (s.notActions) st.NotAction = s.notActions;
    if (s.resources) st.Resource = s.resources;
    if (s.conditions) {
      const c: Record<string, Record<string, unknown>> = {};
      for (const cond of s.conditions) (c[cap(cond.test)] ??= {})[cond.variable] = cond.values;
      st.Condition = c;
    }
    return st;
  });
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

function defaultCall(token: string, inputs: any, region: string): Record<string, any> {
  switch (token) {
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return { accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/test`, userId: 'AIDAMOCK', id: ACCOUNT_ID };
    case 'aws:index/getRegion:getRegion':
      return { name: region, region, id: region, endpoint: `ec2.${region}.amazonaws.com`, description: region };
    case 'aws:index/getPartition:getPartition':
      return { partition: 'aws', dnsSuffix: 'amazonaws.com', id: 'aws', reverseDnsPrefix: 'com.amazonaws' };
    case 'aws:index/getAvailabilityZones:getAvailabilityZones':
      return { names: [`${region}a`, `${region}b`, `${region}c`], zoneIds: ['use1-az1', 'use1-az2', 'use1-az3'], id: region, state: 'available' };
    case 'aws:iam/getPolicyDocument:getPolicyDocument':
      return { json: policyDocumentJson(inputs), minifiedJson: policyDocumentJson(inputs), id: 'mock-policy' };
    case 'aws:ecr/getAuthorizationToken:getAuthorizationToken':
      return { authorizationToken: 'QVdTOm1vY2s=', userName: 'AWS', password: 'mock-ecr-password', proxyEndpoint: `https://${ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com`, expiresAt: '2030-01-01T00:00:00Z', id: region };
    case 'aws:ec2/getVpc:getVpc':
      return { id: inputs.id, cidrBlock: '10.0.0.0/16', arn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:vpc/${inputs.id}` };
    case 'aws:secretsmanager/getSecret:getSecret': {
      // A replicated secret keeps its name and suffix in every region: same ARN as mockArn gives its source.
      const n = inputs.name ?? String(inputs.arn ?? '').split(':secret:')[1]?.replace(/-AbCdEf$/, '');
      return { ...inputs, id: n, name: n, arn: `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${n}-AbCdEf`, kmsKeyId: '', description: '', policy: '', tags: {} };
    }
    case 'aws:rds/getSnapshot:getSnapshot': {
      const sid = `rds:${inputs.dbInstanceIdentifier ?? 'db'}-2024-01-01-00-00`;
      return { ...inputs, id: sid, dbSnapshotIdentifier: sid, dbSnapshotArn: `arn:aws:rds:${region}:${ACCOUNT_ID}:snapshot:${sid}`, encrypted: true, status: 'available' };
    }
    default:
      throw new Error(`mocks: no invoke mock for ${token} (pass one via runProgram(..., { calls }))`);
  }
}

/** The runtime's internal "wait until the RPC queue drains" (exported at runtime, not in the typings). */
function runtimeWaitForRpcs(): Promise<void> {
  const fn = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  return typeof fn === 'function' ? fn() : Promise.resolve();
}

/** Deep-resolve a value with nested Outputs/promises. */
function resolveDeep(value: unknown): Promise<any> {
  return new Promise((resolve) => {
    pulumi.output(value as pulumi.Input<Record<string, any>>).apply((v: unknown) => {
      resolve(v);
      return v;
    });
  });
}

const settle = () => new Promise<void>((r) => setTimeout(r, 5));

/**
 * Run a Pulumi program under mocks and return every registered resource.
 * The program may return an object of stack outputs (Inputs); they are resolved before returning.
 */
export async function runProgram(program: () => ProgramResult | Promise<ProgramResult>, options: RunOptions = {}): Promise<ProgramRun> {
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.config ?? {})) {
    if (v === undefined) continue;
    config[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  const defaultRegion = config['aws:region'] ?? 'us-east-1';
  const resources: RecordedResource[] = [];
  const calls: ProgramRun['calls'] = [];
  const providerRegions = new Map<string, string>();

  const regionOf = (provider: string | undefined): string => {
    if (!provider) return defaultRegion;
    const id = provider.split('::').pop() ?? '';
    return providerRegions.get(id) ?? defaultRegion;
  };

  // A throwing mock leaves dependent Outputs unresolved forever; surface it as a rejection instead.
  let failMock: (e: Error) => void = () => undefined;
  const mockFailed = new Promise<never>((_, reject) => {
    failMock = reject;
  });
  mockFailed.catch(() => undefined);
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      failMock(e as Error);
      throw e;
    }
  };

  const mocks: pulumi.runtime.Mocks = {
    newResource: (args) => guard(() => newResource(args)),
    call: (args) => guard(() => call(args)),
  };
  function newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
      const inputs: Record<string, any> = args.inputs ?? {};
      const plainInputs: Record<string, any> = {};
      const secretInputs: string[] = [];
      for (const [k, v] of Object.entries(inputs)) {
        const found = { secret: false };
        plainInputs[k] = unwrapSecrets(v, found);
        if (found.secret) secretInputs.push(k);
      }
      let id: string;
      let state: Record<string, any>;
      let region = regionOf(args.provider);
      if (args.type === 'pulumi:pulumi:StackReference') {
        const refName: string = inputs.name ?? args.name;
        const outputs = options.stackRefs?.[refName];
        if (!outputs) throw new Error(`mocks: no outputs given for StackReference ${refName} (pass stackRefs)`);
        id = refName;
        state = { name: refName, outputs, secretOutputNames: [] };
      } else if (args.type.startsWith('pulumi:providers:')) {
        region = typeof inputs.region === 'string' ? inputs.region : defaultRegion;
        id = `provider-${args.name}-${region}`;
        providerRegions.set(id, region);
        state = { ...inputs };
      } else if (args.custom === false) {
        id = '';
        state = {};
      } else {
        state = defaultState(args.type, args.name, inputs, region);
        const extra = options.state?.[args.type];
        if (extra) state = { ...state, ...extra({ name: args.name, inputs, region }) };
        id = state.id ?? `${args.name}-id`;
      }
      resources.push({ type: args.type, name: args.name, inputs, plainInputs, secretInputs, state, id, custom: args.custom !== false, provider: args.provider || undefined, region });
      return { id, state };
  }
  function call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
      const region = args.inputs?.region ?? regionOf(args.provider);
      calls.push({ token: args.token, inputs: args.inputs, region });
      const custom = options.calls?.[args.token];
      return custom ? custom(args.inputs, region) : defaultCall(args.token, args.inputs, region);
  }

  await pulumi.runtime.setMocks(mocks, PROJECT, options.stack ?? 'test', false);
  pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);

  // Capture URNs and parents: wrap the mock monitor's registerResource (the mock args carry neither).
  const monitor: unknown = pulumi.runtime.getMonitor();
  if (monitor instanceof MockMonitor) {
    const capture =
      (original: (req: any, cb: (err: any, resp: any) => void) => Promise<void>) =>
      (req: any, callback: (err: any, resp: any) => void) =>
        original(req, (err: any, resp: any) => {
          if (!err && resp) {
            const rec = resources.find((r) => r.urn === undefined && r.type === req.getType() && r.name === req.getName());
            if (rec) {
              rec.urn = resp.getUrn();
              rec.parentUrn = req.getParent() || undefined;
            }
          }
          callback(err, resp);
        });
    monitor.registerResource = capture(monitor.registerResource.bind(monitor));
    monitor.readResource = capture(monitor.readResource.bind(monitor));
  }

  const returned = await Promise.race([program(), mockFailed]);
  const outputs: Record<string, any> = {};
  const secretOutputs: string[] = [];
  if (returned && typeof returned === 'object') {
    for (const [k, v] of Object.entries(returned)) {
      if (pulumi.Output.isInstance(v) && (await Promise.race([pulumi.isSecret(v), mockFailed]))) secretOutputs.push(k);
      outputs[k] = await Promise.race([resolveDeep(v), mockFailed]);
    }
  }
  // Wait until nothing new is registered and the RPC queue is empty.
  let stableRounds = 0;
  let last = -1;
  while (stableRounds < 3) {
    await Promise.race([runtimeWaitForRpcs(), mockFailed]);
    await Promise.race([settle(), mockFailed]);
    const n = resources.length + calls.length;
    stableRounds = n === last ? stableRounds + 1 : 0;
    last = n;
  }

  const run: ProgramRun = {
    resources,
    calls,
    outputs,
    secretOutputs,
    byType: (type) => resources.filter((r) => r.type === type),
    one(type, name) {
      const found = resources.filter((r) => r.type === type && (!name || name.test(r.name)));
      if (found.length !== 1) {
        throw new Error(`expected exactly one ${type}${name ? ` matching ${name}` : ''}, found ${found.length}: [${found.map((r) => r.name).join(', ')}]`);
      }
      return found[0];
    },
    children: (parent) => resources.filter((r) => parent.urn !== undefined && r.parentUrn === parent.urn),
    summary() {
      const counts = new Map<string, number>();
      for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
      return [...counts.entries()].sort().map(([t, c]) => `${t} x${c}`).join('\n');
    },
  };
  return run;
}

/**
 * Run a program that is expected to throw (e.g. config validation). Returns the error and the resources
 * that were registered before/despite it, so a test can assert that none were declared.
 */
export async function runProgramExpectingError(
  program: () => ProgramResult | Promise<ProgramResult>,
  options: RunOptions = {},
): Promise<{ error: Error; resources: RecordedResource[] }> {
  let captured: RecordedResource[] = [];
  let error: Error | undefined;
  try {
    const run = await runProgram(async () => {
      try {
        return await program();
      } catch (e) {
        error = e as Error;
        return {};
      }
    }, options);
    captured = run.resources;
  } catch (e) {
    error ??= e as Error;
  }
  if (!error) throw new Error('expected the program to throw, but it completed');
  return { error, resources: captured };
}

/** All strings in a value, deeply (for "no secret leaked" assertions). */
export function serializeDeep(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * Read a committed `Pulumi.<stack>.yaml` into a runProgram config map. `secure:` leaves become unique
 * mock secret strings (returned in `secretValues`) and their top-level keys are marked secret, as Pulumi does.
 * Under `botTokens` the mock is shaped like the bot's platform's tokens, which the config loader checks.
 */
export function loadStackFile(path: string): { config: Record<string, unknown>; secretKeys: string[]; secretValues: string[] } {
  const doc = YAML.parse(fs.readFileSync(path, 'utf8')) as { config?: Record<string, unknown> };
  const config: Record<string, unknown> = {};
  const secretKeys: string[] = [];
  const secretValues: string[] = [];
  let n = 0;
  const bots = doc.config?.[`${PROJECT}:bots`];
  /** A bot's platform in the stack file (the object form names it; the plain list means telegram). */
  const platformOf = (bot: string | undefined): string => {
    const b = bots && typeof bots === 'object' && !Array.isArray(bots) ? (bots as Record<string, { platform?: string } | null>)[bot ?? ''] : undefined;
    return b?.platform ?? 'telegram';
  };
  /** A stand-in for a `secure:` value: under botTokens, shaped like the bot's platform's tokens (config validates it). */
  const mockSecret = (key: string, path: string[]): string => {
    const id = `${++n}${Math.random().toString(36).slice(2, 10)}`;
    if (key !== `${PROJECT}:botTokens`) return `mock-secret-${key.replace(/[^a-z0-9]/gi, '')}-${id}`;
    const body = `mocksecret${id}`.padEnd(40, 'x');
    return platformOf(path[0]) === 'discord' ? `MTAmock${body.slice(0, 17)}.Gmock${n}.${body}` : `${1_000_000 + n}:AA${body.slice(0, 33)}`;
  };
  const walk = (v: unknown, key: string, onSecret: () => void, path: string[] = []): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => walk(x, key, onSecret, [...path, String(i)]));
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (Object.keys(o).length === 1 && typeof o.secure === 'string') {
        onSecret();
        const value = mockSecret(key, path);
        secretValues.push(value);
        return value;
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x, key, onSecret, [...path, k])]));
    }
    return v;
  };
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    let secret = false;
    config[k] = walk(v, k, () => (secret = true));
    if (secret) secretKeys.push(k);
  }
  return { config, secretKeys, secretValues };
}
