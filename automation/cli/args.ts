import { UsageError } from '../core/errors';

/** One flag a command accepts. */
export interface FlagSpec {
  type: 'string' | 'boolean' | 'number';
  /** One line for `dr help <command>`. */
  description: string;
  /** Environment variable consulted when the flag is absent (e.g. DATABASE_URL). */
  env?: string;
  /** Allowed values for a string flag; anything else is a usage error naming them. */
  choices?: readonly string[];
  /** A string flag that may be repeated; its value is then a string[]. */
  multiple?: boolean;
  default?: string | number | boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValue = string | number | boolean | string[] | undefined;
export type ParsedFlags = Record<string, FlagValue>;

/**
 * Parse `--name value`, `--name=value` and boolean `--name` against a spec. Unknown flags, missing values,
 * values outside `choices` and non-numbers for number flags are usage errors that say what is allowed.
 */
export function parseFlags(argv: readonly string[], specs: FlagSpecs, env: Record<string, string | undefined>): ParsedFlags {
  const out: ParsedFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = specs[name];
    if (!spec) {
      const known = Object.keys(specs).map((k) => `--${k}`).join(', ');
      throw new UsageError(`unknown flag --${name}; allowed: ${known || '(none)'}`);
    }
    let raw: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (spec.type === 'boolean') {
      if (raw !== undefined && raw !== 'true' && raw !== 'false') throw new UsageError(`--${name} takes no value (or true|false), got '${raw}'`);
      out[name] = raw === undefined ? true : raw === 'true';
      continue;
    }
    if (raw === undefined) {
      raw = argv[i + 1];
      if (raw === undefined || raw.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      i++;
    }
    const value = convert(name, spec, raw);
    if (spec.multiple) {
      const prev = out[name];
      out[name] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else {
      out[name] = value;
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (out[name] !== undefined) continue;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') out[name] = convert(name, spec, fromEnv, spec.env);
    else if (spec.default !== undefined) out[name] = spec.default;
  }
  return out;
}

function convert(name: string, spec: FlagSpec, raw: string, envName?: string): string | number | boolean {
  const where = envName ? `${envName} (for --${name})` : `--${name}`;
  if (spec.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${where} must be a number, got '${raw}'`);
    return n;
  }
  if (spec.type === 'boolean') return raw === 'true' || raw === '1';
  if (spec.choices && !spec.choices.includes(raw)) {
    throw new UsageError(`${where} must be one of ${spec.choices.join('|')}, got '${raw}'`);
  }
  return raw;
}

/** Typed accessors over parsed flags, so commands never juggle `FlagValue` unions. */
export class Flags {
  constructor(private readonly values: ParsedFlags) {}
  has(name: string): boolean {
    return this.values[name] !== undefined;
  }
  string(name: string): string | undefined {
    const v = this.values[name];
    return v === undefined ? undefined : String(v);
  }
  /** A string flag that must be present (directly or through its env variable). */
  required(name: string, hint?: string): string {
    const v = this.string(name);
    if (v === undefined || v === '') throw new UsageError(`--${name} is required${hint ? ` (${hint})` : ''}`);
    return v;
  }
  number(name: string): number | undefined {
    const v = this.values[name];
    return v === undefined ? undefined : Number(v);
  }
  bool(name: string): boolean {
    return this.values[name] === true;
  }
  list(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v : v === undefined ? [] : [String(v)];
  }
}
