/**
 * Extra recording on top of test/helpers/pulumi.ts (engineer A's helper, not modified here): the
 * dependencies and secret-marked inputs of each resource registration, which the mock's newResource
 * callback does not see. Call `captureRegistrations()` at the start of the program passed to
 * `runProgram`, i.e. after the mock monitor has been installed.
 */
import * as pulumi from '@pulumi/pulumi';
import { specialSecretSig, specialSigKey } from '@pulumi/pulumi/runtime/rpc';

export interface Registration {
  type: string;
  name: string;
  /** URNs of explicit and implicit (input-derived) dependencies. */
  dependencies: string[];
  /** Per top-level input: the URNs of the resources its value was derived from (what a policy pack sees as `propertyDependencies`). */
  propertyDependencies: Record<string, string[]>;
  /** Top-level input keys whose value was sent as a secret. */
  secretInputKeys: string[];
  /** The `ignoreChanges` resource option. */
  ignoreChanges: string[];
  /** The `retainOnDelete` resource option. */
  retainOnDelete: boolean;
  /** The `deleteBeforeReplace` resource option. */
  deleteBeforeReplace: boolean;
  /** The `import` resource option (the id of an existing resource to adopt), if set. */
  importId?: string;
}

function isSecretValue(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

export function captureRegistrations(): Registration[] {
  const out: Registration[] = [];
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: any, cb: (err: any, resp: any) => void) => void };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) => {
    const object: Record<string, unknown> = req.getObject()?.toJavaScript() ?? {};
    const deps = new Set<string>(req.getDependenciesList());
    const propDeps = req.getPropertydependenciesMap();
    const propertyDependencies: Record<string, string[]> = {};
    propDeps.forEach((v: any, key: string) => {
      propertyDependencies[key] = [...v.getUrnsList()];
      for (const u of v.getUrnsList()) deps.add(u);
    });
    out.push({
      type: req.getType(),
      name: req.getName(),
      dependencies: [...deps],
      propertyDependencies,
      secretInputKeys: Object.keys(object).filter((k) => isSecretValue(object[k])),
      ignoreChanges: req.getIgnorechangesList?.() ?? [],
      retainOnDelete: req.getRetainondelete?.() === true,
      deleteBeforeReplace: req.getDeletebeforereplace?.() === true,
      ...(req.getImportid?.() ? { importId: req.getImportid() as string } : {}),
    });
    original(req, callback);
  };
  return out;
}

/** The registration of the resource named `name` (exact). */
export function registration(regs: Registration[], name: string): Registration {
  const r = regs.find((x) => x.name === name);
  if (!r) throw new Error(`no registration named ${name}: [${regs.map((x) => x.name).join(', ')}]`);
  return r;
}

/** Whether `from` depends (directly) on the resource named `toName`. */
export function dependsOn(regs: Registration[], fromName: string, toName: string): boolean {
  return registration(regs, fromName).dependencies.some((u) => u.endsWith(`::${toName}`));
}

/**
 * A recorded input value with the secret envelope removed. The mock monitor hands top-level secret
 * inputs to newResource still wrapped as `{ <sigKey>: <secretSig>, value }`; this returns the value.
 */
export function unwrapSecret(v: unknown): unknown {
  return isSecretValue(v) ? (v as { value: unknown }).value : v;
}
