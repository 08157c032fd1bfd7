/**
 * Running the policy pack without the Pulumi CLI, in the style of pulumi/pulumi-policy-aws's tests: fake
 * `ResourceValidationArgs` / `StackValidationArgs` and a `reportViolation` that collects. Two sources of resources:
 * - {@link fake}: one resource with literal props (and, optionally, the resources its props were computed from);
 * - {@link fromRun}: every resource a program run under mocks recorded (test/helpers/stacks.ts `runStack`), with the
 *   regions of their providers, their parents and their per-property dependencies, as the engine would send them.
 */
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy, Policies } from '@pulumi/policy';
import type { Resource, Unwrap } from '@pulumi/pulumi';
import { specialSecretSig, specialSigKey } from '@pulumi/pulumi/runtime/rpc';
import type { RecordedResource } from '../helpers/pulumi';
import type { RoleRun } from '../helpers/stacks';
import { DR_POLICIES } from '../../policy/policies';

export interface Violation {
  policy: string;
  level: 'mandatory' | 'advisory';
  message: string;
  urn?: string;
}

const emptyOptions = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

class NotApplicable extends Error {}

/** The type token of a resource class (`aws.s3.Bucket` → `aws:s3/bucket:Bucket`), or the token itself. */
export function typeOf(cls: string | { __pulumiType?: string }): string {
  const t = typeof cls === 'string' ? cls : cls.__pulumiType;
  if (typeof t !== 'string') throw new Error('no Pulumi type');
  return t;
}

const isTypeOf = (type: string) => (cls: { new (...rest: any[]): unknown }) => (cls as unknown as { __pulumiType?: string }).__pulumiType === type;

interface FakeOptions {
  /** The region of the resource's provider. Default us-east-1. */
  region?: string;
  /** Property → the resources its value was computed from (`propertyDependencies`). */
  deps?: Record<string, PolicyResource[]>;
  /** Computed outputs a stack policy sees besides the inputs (`id`, `arn`, …). */
  outputs?: Record<string, unknown>;
  parent?: PolicyResource;
}

/**
 * A resource of class `cls` with literal props, typed by the class's args (the @pulumi/aws types are the schema);
 * `opts.deps` maps a property to the resources its value was computed from.
 */
export function fake<TResource extends Resource, TArgs>(
  cls: { new (name: string, args: TArgs, ...rest: any[]): TResource },
  name: string,
  props: Partial<Unwrap<NonNullable<TArgs>>>,
  opts: FakeOptions = {},
): PolicyResource {
  return fakeResource(typeOf(cls as unknown as { __pulumiType?: string }), name, { ...(props as Record<string, unknown>), ...opts.outputs }, opts);
}

/** A resource of type token `type` with literal props. */
export function fakeResource(type: string, name: string, props: Record<string, unknown>, opts: FakeOptions = {}): PolicyResource {
  const region = opts.region ?? 'us-east-1';
  return {
    type,
    name,
    props,
    urn: `urn:pulumi:test::bot-platform-dr::${type}::${name}`,
    opts: emptyOptions,
    provider: { type: 'pulumi:providers:aws', name: `aws-${region}`, urn: `urn:pulumi:test::bot-platform-dr::pulumi:providers:aws::aws-${region}`, props: { region } },
    parent: opts.parent,
    dependencies: Object.values(opts.deps ?? {}).flat(),
    propertyDependencies: opts.deps ?? {},
    isType: isTypeOf(type) as PolicyResource['isType'],
    asType: ((c: { new (...rest: any[]): unknown }) => (isTypeOf(type)(c) ? props : undefined)) as PolicyResource['asType'],
  };
}

/** The `ResourceValidationArgs` of a resource (its props are the inputs). */
export function resourceArgs(r: PolicyResource): ResourceValidationArgs {
  return {
    type: r.type,
    props: r.props,
    urn: r.urn,
    name: r.name,
    opts: r.opts,
    provider: r.provider,
    stackTags: new Map(),
    isType: r.isType,
    asType: ((c: { new (...rest: any[]): unknown }) => (isTypeOf(r.type)(c) ? r.props : undefined)) as ResourceValidationArgs['asType'],
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

/** The `StackValidationArgs` of a set of resources. */
export function stackArgs(resources: PolicyResource[]): StackValidationArgs {
  return {
    resources,
    stackTags: new Map(),
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

/** Run one resource policy over a resource: its violation messages (none if not applicable). */
export async function runResourcePolicy(policy: ResourceValidationPolicy, r: PolicyResource): Promise<string[]> {
  const out: string[] = [];
  const validations = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  for (const v of validations) {
    try {
      await v(resourceArgs(r), (message) => out.push(message));
    } catch (e) {
      if (!(e instanceof NotApplicable) && !(e instanceof Error && e.constructor.name === 'NotApplicableError')) throw e;
    }
  }
  return out;
}

/** Run one stack policy over resources: its violations as `[message, urn?]` (none if not applicable). */
export async function runStackPolicy(policy: StackValidationPolicy, resources: PolicyResource[]): Promise<{ message: string; urn?: string }[]> {
  const out: { message: string; urn?: string }[] = [];
  try {
    await policy.validateStack(stackArgs(resources), (message, urn) => out.push({ message, urn }));
  } catch (e) {
    if (!(e instanceof NotApplicable)) throw e;
  }
  return out;
}

/** Run every policy of a pack: resource policies over each resource (`inputs`), stack policies over `outputs`. */
export async function runPack(policies: Policies, resources: { inputs: PolicyResource[]; outputs: PolicyResource[] }): Promise<Violation[]> {
  const out: Violation[] = [];
  for (const p of policies) {
    const level = (p.enforcementLevel ?? 'advisory') as Violation['level'];
    if ('validateStack' in p) {
      for (const v of await runStackPolicy(p, resources.outputs)) out.push({ policy: p.name, level, ...v });
    } else {
      for (const r of resources.inputs) for (const message of await runResourcePolicy(p, r)) out.push({ policy: p.name, level, message, urn: r.urn });
    }
  }
  return out;
}

/** A recorded value with Pulumi's secret envelopes replaced by their values (a policy sees plaintext). */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o[specialSigKey] === specialSecretSig) return plain(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

export interface FromRunOptions {
  /**
   * Simulate the first preview of a fresh stack: every property computed from another resource's outputs (a
   * non-empty property dependency other than a StackReference) and every computed output is unknown, read through
   * the policy framework's proxy (which throws on an unknown).
   */
  freshPreview?: boolean;
}

/** The policy framework's internal proxy and unknown sentinel (not in its public typings). */
function previewProxy(): { unknownCheckingProxy: (o: object) => Record<string, unknown>; unknownStringValue: string } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@pulumi/policy/proxy') as { unknownCheckingProxy: (o: object) => Record<string, unknown>; unknownStringValue: string };
}

/** `props` as a preview shows them when `unknown` are computed from resources not created yet (the framework's proxy). */
export function withUnknowns(props: Record<string, unknown>, unknown: string[]): Record<string, unknown> {
  const proxy = previewProxy();
  return proxy.unknownCheckingProxy({ ...props, ...Object.fromEntries(unknown.map((k) => [k, proxy.unknownStringValue])) });
}

/**
 * The resources a program run recorded, as a policy pack sees them: `inputs` (resource policies: the inputs) and
 * `outputs` (stack policies: the outputs — under mocks, the inputs plus the mock's computed state), linked by
 * parent and per-property dependencies.
 */
export function fromRun(run: RoleRun, options: FromRunOptions = {}): { inputs: PolicyResource[]; outputs: PolicyResource[] } {
  const regKey = (type: string, name: string) => `${type}::${name}`;
  const regs = new Map(run.regs.map((r) => [regKey(r.type, r.name), r]));
  const byUrn = new Map(run.resources.filter((r) => r.urn).map((r) => [r.urn!, r]));
  const proxy = options.freshPreview ? previewProxy() : undefined;
  const build = (which: 'inputs' | 'outputs') => {
    const made = new Map<RecordedResource, PolicyResource>();
    const propsOf = (r: RecordedResource): Record<string, unknown> => {
      const inputs = plain(r.plainInputs) as Record<string, unknown>;
      const base = which === 'inputs' ? inputs : { ...(r.custom ? { id: r.id } : {}), ...(plain(r.state) as Record<string, unknown>), ...inputs };
      if (!proxy) return base;
      const reg = regs.get(regKey(r.type, r.name));
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(base)) {
        const fromResources = (reg?.propertyDependencies[k] ?? []).some((u) => byUrn.get(u)?.type !== 'pulumi:pulumi:StackReference');
        const computedOutput = !(k in inputs);
        out[k] = fromResources || (computedOutput && r.custom) ? proxy.unknownStringValue : v;
      }
      return proxy.unknownCheckingProxy(out);
    };
    for (const r of run.resources) {
      const region = r.region;
      const pr = fakeResource(r.type, r.name, propsOf(r), { region });
      pr.urn = r.urn ?? pr.urn;
      if (!r.custom || r.type.startsWith('pulumi:providers:')) delete pr.provider;
      made.set(r, pr);
    }
    for (const [r, pr] of made) {
      const reg = regs.get(regKey(r.type, r.name));
      const resolve = (urns: string[]) => urns.map((u) => byUrn.get(u)).filter((x): x is RecordedResource => !!x).map((x) => made.get(x)!);
      pr.propertyDependencies = Object.fromEntries(Object.entries(reg?.propertyDependencies ?? {}).map(([k, us]) => [k, resolve(us)]));
      pr.dependencies = resolve(reg?.dependencies ?? []);
      pr.parent = r.parentUrn ? made.get(byUrn.get(r.parentUrn)!) : undefined;
    }
    return [...made.values()];
  };
  return { inputs: build('inputs'), outputs: build('outputs') };
}

/** The pack's policy named `name`. */
export function resourcePolicy(name: string): ResourceValidationPolicy {
  const p = DR_POLICIES.find((x) => x.name === name);
  if (!p || 'validateStack' in p) throw new Error(`no resource policy ${name}`);
  return p;
}

export function stackPolicy(name: string): StackValidationPolicy {
  const p = DR_POLICIES.find((x) => x.name === name);
  if (!p || !('validateStack' in p)) throw new Error(`no stack policy ${name}`);
  return p;
}

/** `policy: message` lines, for assertion messages. */
export function listViolations(violations: Violation[]): string {
  return violations.map((v) => `[${v.level}] ${v.policy}: ${v.message}`).join('\n');
}
