import { parseArgs } from 'node:util';
import { FlagError, OperationError } from '../core/errors';

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

/** One positional argument a command takes, in order after the command's words (`dr tokens use BOT INDEX`). */
export interface ArgSpec {
  /** Key of its value in the parsed result (read it with {@link Flags.arg}); shown upper-case in usage (`BOT`). */
  name: string;
  /** One line for `dr help <command>`. */
  description: string;
  /** May be left out (optional arguments come after the required ones). */
  optional?: boolean;
}

export type ArgSpecs = readonly ArgSpec[];

/** The positional part of a usage line: `BOT INDEX [EXTRA]`. */
export function argsUsage(args: ArgSpecs): string {
  return args.map((a) => (a.optional ? `[${a.name.toUpperCase()}]` : a.name.toUpperCase())).join(' ');
}

/**
 * Parse `--name value`, `--name=value` and boolean `--name` against a spec, with Node's own `util.parseArgs`
 * tokenizer, plus the positional arguments a command declares in `args` (their values are stored under their
 * names). Unknown flags, positional arguments beyond the declared ones, missing required arguments, missing values,
 * values outside `choices` and non-numbers for number flags are usage errors that say what is allowed.
 */
export function parseFlags(argv: readonly string[], specs: FlagSpecs, env: Record<string, string | undefined>, args: ArgSpecs = []): ParsedFlags {
  for (const a of args) if (Object.prototype.hasOwnProperty.call(specs, a.name)) throw new OperationError(`'${a.name}' is declared both as a flag and as an argument`);
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: spec.type === 'boolean' ? 'boolean' : 'string', ...(spec.multiple ? { multiple: true } : {}) };
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const out: ParsedFlags = {};
  let given = 0;
  for (const t of tokens) {
    if (t.kind === 'positional') {
      if (given >= args.length) throw new FlagError(`unexpected argument '${t.value}'`);
      out[args[given++].name] = t.value;
      continue;
    }
    if (t.kind === 'option-terminator') throw unknownFlag('', specs);
    if (!t.rawName.startsWith('--')) throw new FlagError(`unexpected argument '${argv[t.index]}'`);
    const spec = specs[t.name];
    if (!spec) throw unknownFlag(t.name, specs);
    if (spec.type === 'boolean') {
      if (t.inlineValue && t.value !== 'true' && t.value !== 'false') throw new FlagError(`--${t.name} takes no value (or true|false), got '${t.value}'`);
      out[t.name] = !t.inlineValue || t.value === 'true';
      continue;
    }
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) throw new FlagError(`--${t.name} needs a value`);
    const value = convert(t.name, spec, t.value);
    if (spec.multiple) {
      const prev = out[t.name];
      out[t.name] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else {
      out[t.name] = value;
    }
  }
  const missing = args.slice(given).filter((a) => !a.optional);
  if (missing.length) throw new FlagError(`missing ${missing.map((a) => a.name.toUpperCase()).join(' and ')} (arguments: ${argsUsage(args)})`);
  for (const [name, spec] of Object.entries(specs)) {
    if (out[name] !== undefined) continue;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') out[name] = convert(name, spec, fromEnv, spec.env);
    else if (spec.default !== undefined) out[name] = spec.default;
  }
  return out;
}

function unknownFlag(name: string, specs: FlagSpecs): FlagError {
  const known = Object.keys(specs).map((k) => `--${k}`).join(', ');
  return new FlagError(`unknown flag --${name}; allowed: ${known || '(none)'}`);
}

function convert(name: string, spec: FlagSpec, raw: string, envName?: string): string | number | boolean {
  const where = envName ? `${envName} (for --${name})` : `--${name}`;
  if (spec.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new FlagError(`${where} must be a number, got '${raw}'`);
    return n;
  }
  if (spec.type === 'boolean') return raw === 'true' || raw === '1';
  if (spec.choices && !spec.choices.includes(raw)) {
    throw new FlagError(`${where} must be one of ${spec.choices.join('|')}, got '${raw}'`);
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
    if (v === undefined || v === '') throw new FlagError(`--${name} is required${hint ? ` (${hint})` : ''}`);
    return v;
  }
  number(name: string): number | undefined {
    const v = this.values[name];
    return v === undefined ? undefined : Number(v);
  }
  /** A positional argument's value (undefined only for an optional one that was left out). */
  arg(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === 'string' ? v : undefined;
  }
  bool(name: string): boolean {
    return this.values[name] === true;
  }
  list(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v : v === undefined ? [] : [String(v)];
  }
}
