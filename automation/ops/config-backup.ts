/**
 * `dr backup config` / `dr restore config` (seed story AC4): the stacks' exported state and their settings file,
 * encrypted exactly as Pulumi stores them (`secure:` config values and state secrets stay ciphertext — nothing is
 * decrypted here), copied to BOTH regions' backup buckets, versioned by timestamp, with a sha256 manifest.
 *
 *   config/<stack>/<YYYYMMDD_HHMMSS>/state.json         `pulumi stack export` (no --show-secrets)
 *   config/<stack>/<YYYYMMDD_HHMMSS>/Pulumi.<name>.yaml  the stack settings file, byte for byte
 *   config/<stack>/<YYYYMMDD_HHMMSS>/permissions.json    the bots' channel-rights matrix when it could be checked
 *                                                        (issue 11: bot, token INDEX, channel, verdict — no token)
 *   config/<stack>/<YYYYMMDD_HHMMSS>/manifest.json       sha256 + size of each file; written LAST (commit marker)
 *
 * The buckets are versioned and the `config/` prefix has its own lifecycle rule (backup.configDays).
 * Restoring verifies every file against the manifest BEFORE touching the stack and refuses on any mismatch; only
 * then it writes the settings file and imports the state.
 */
import { createHash } from 'node:crypto';
import { CONFIG_PREFIX } from '../../lib/lifecycle';
import { errorSummary, FlagError, NotFoundError, UsageError, VerificationError } from '../core/errors';
import { redact } from '../core/redact';
import { ObjectStore, parseStamp, readText, stampOf } from '../backup/index';
import { AdminDriver } from '../adapters/aws/stacks';
import { parsePermissionMatrix, type PermissionMatrix } from '../tokens';

export const CONFIG_MANIFEST_FORMAT = 1;
export const STATE_FILE = 'state.json';
export const MANIFEST_FILE = 'manifest.json';
/** The channel-rights matrix saved beside the state (issue 11, seed 000 AC4). */
export const PERMISSIONS_FILE = 'permissions.json';

/** A file backed up beside each stack's state and settings (listed in the manifest, verified on restore). */
export interface ExtraConfigFile {
  name: string;
  body: string;
  contentType: string;
}

export interface ConfigFileEntry {
  name: string;
  key: string;
  sha256: string;
  size_bytes: number;
}

export interface ConfigManifest {
  format: number;
  kind: 'pulumi-stack-config';
  stack: string;
  /** ISO 8601 UTC. */
  created_at: string;
  version: string;
  files: ConfigFileEntry[];
  /** Always `ciphertext`: secrets are stored as Pulumi encrypted them. */
  secrets: 'ciphertext';
}

const STACK_NAME = /^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/;

export function validateStackName(name: string, flag = '--stack'): string {
  if (!STACK_NAME.test(name)) throw new UsageError(`${flag} '${name}' is not a stack name (stack or org/project/stack)`);
  return name;
}

export function configPrefix(stack: string): string {
  return `${CONFIG_PREFIX}${stack}/`;
}

export function settingsName(stack: string): string {
  return `Pulumi.${stack.split('/').pop()}.yaml`;
}

const sha256 = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');

export interface NamedStore {
  /** e.g. the region. */
  name: string;
  store: ObjectStore;
}

export interface ConfigBackupResult {
  ok: boolean;
  version: string;
  stacks: Array<{
    stack: string;
    files: Array<{ name: string; sha256: string; size_bytes: number }>;
    locations: Array<{ location: string; ok: boolean; manifest_key?: string; error?: string }>;
  }>;
}

/**
 * Back up every stack's state and settings to every store. A store that fails is reported (ok=false) and the
 * others still get their copy; a stack whose state cannot be exported fails the run before anything is written
 * for it.
 */
export async function backupConfig(o: { driver: AdminDriver; stacks: string[]; stores: NamedStore[]; now: Date; extraFiles?: readonly ExtraConfigFile[]; log?: (line: string) => void }): Promise<ConfigBackupResult> {
  if (o.stacks.length === 0) throw new UsageError('no stack to back up: give --stack (repeatable)');
  o.stacks.forEach((s) => validateStackName(s));
  if (o.stores.length === 0) throw new UsageError('no bucket to back up to');
  const version = stampOf(o.now);
  const log = (l: string) => o.log?.(redact(l));
  const result: ConfigBackupResult = { ok: true, version, stacks: [] };
  for (const name of o.stacks) {
    const stack = await o.driver.select(name);
    const state = await stack.exportState();
    const settings = await stack.readSettings();
    const prefix = `${configPrefix(name)}${version}/`;
    const files: Array<{ name: string; body: string; contentType: string }> = [{ name: STATE_FILE, body: state, contentType: 'application/json' }];
    if (settings !== undefined) files.push({ name: settingsName(name), body: settings, contentType: 'application/yaml' });
    else log(`[${name}] no stack settings file: only the state is backed up`);
    for (const f of o.extraFiles ?? []) if (!files.some((x) => x.name === f.name)) files.push({ ...f, body: redact(f.body) });
    const manifest: ConfigManifest = {
      format: CONFIG_MANIFEST_FORMAT,
      kind: 'pulumi-stack-config',
      stack: name,
      created_at: o.now.toISOString(),
      version,
      files: files.map((f) => ({ name: f.name, key: prefix + f.name, sha256: sha256(f.body), size_bytes: Buffer.byteLength(f.body, 'utf8') })),
      secrets: 'ciphertext',
    };
    const entry: ConfigBackupResult['stacks'][number] = { stack: name, files: manifest.files.map(({ name: n, sha256: h, size_bytes }) => ({ name: n, sha256: h, size_bytes })), locations: [] };
    for (const { name: where, store } of o.stores) {
      try {
        for (const f of files) await store.put(prefix + f.name, f.body, f.contentType);
        await store.put(prefix + MANIFEST_FILE, JSON.stringify(manifest, null, 2), 'application/json');
        entry.locations.push({ location: `${where} ${store.location}`, ok: true, manifest_key: prefix + MANIFEST_FILE });
        log(`[${name}] ${store.location}/${prefix} (${files.length} file(s) + manifest)`);
      } catch (err) {
        result.ok = false;
        entry.locations.push({ location: `${where} ${store.location}`, ok: false, error: redact(errorSummary(err)) });
        log(`[${name}] FAILED to write to ${store.location}: ${errorSummary(err)}`);
      }
    }
    result.stacks.push(entry);
  }
  return result;
}

/** Versions of a stack's config backups in a store (complete = manifest present), oldest first. */
export async function listConfigVersions(store: ObjectStore, stack: string): Promise<string[]> {
  const prefix = configPrefix(stack);
  const versions = new Set<string>();
  for (const o of await store.list(prefix)) {
    const rest = o.key.slice(prefix.length);
    const [version, file] = rest.split('/');
    if (file === MANIFEST_FILE && parseStamp(version)) versions.add(version);
  }
  return [...versions].sort();
}

function parseConfigManifest(text: string, key: string, stack: string): ConfigManifest {
  let m: ConfigManifest;
  try {
    m = JSON.parse(text) as ConfigManifest;
  } catch (err) {
    throw new VerificationError(`manifest ${key} is not JSON: ${(err as Error).message}`);
  }
  if (m.kind !== 'pulumi-stack-config' || m.format !== CONFIG_MANIFEST_FORMAT || !Array.isArray(m.files)) throw new VerificationError(`manifest ${key} is not a config backup manifest (format ${CONFIG_MANIFEST_FORMAT})`);
  if (m.stack !== stack) throw new VerificationError(`manifest ${key} is for stack '${m.stack}', not '${stack}'`);
  for (const f of m.files) if (!/^[0-9a-f]{64}$/.test(f.sha256) || typeof f.key !== 'string') throw new VerificationError(`manifest ${key}: bad entry for ${f.name}`);
  if (!m.files.some((f) => f.name === STATE_FILE)) throw new VerificationError(`manifest ${key} lists no ${STATE_FILE}`);
  return m;
}

export interface ConfigRestoreResult {
  stack: string;
  version: string;
  location: string;
  verified: Array<{ name: string; sha256: string; size_bytes: number }>;
  /** False for a verify-only run. */
  imported: boolean;
  /** The channel-rights matrix saved with this version (issue 11), when there is one. */
  permissions?: PermissionMatrix;
  /** Why a saved matrix could not be read back (the restore goes on: it is not part of the stack). */
  permissions_error?: string;
}

/** The saved matrix of a verified backup, or why it is unreadable. */
function savedMatrix(bodies: Map<string, string>): Pick<ConfigRestoreResult, 'permissions' | 'permissions_error'> {
  const body = bodies.get(PERMISSIONS_FILE);
  if (body === undefined) return {};
  try {
    return { permissions: parsePermissionMatrix(JSON.parse(body), PERMISSIONS_FILE) };
  } catch (err) {
    return { permissions_error: redact(errorSummary(err)) };
  }
}

/**
 * Restore one stack's config backup: pick the version (`latest` or a `YYYYMMDD_HHMMSS` stamp), verify every file
 * against the manifest, and only then write the settings file and import the state. A mismatch (or a missing file)
 * is a {@link VerificationError} and the stack is not touched.
 */
export async function restoreConfig(o: { driver: AdminDriver; stack: string; store: ObjectStore; from?: string; verifyOnly?: boolean; log?: (line: string) => void }): Promise<ConfigRestoreResult> {
  validateStackName(o.stack);
  const from = o.from ?? 'latest';
  if (from !== 'latest' && !parseStamp(from)) throw new FlagError(`--from must be latest or a version stamp YYYYMMDD_HHMMSS, got '${from}'`);
  const log = (l: string) => o.log?.(redact(l));
  const versions = await listConfigVersions(o.store, o.stack);
  if (versions.length === 0) throw new UsageError(`no config backup of stack ${o.stack} in ${o.store.location}/${configPrefix(o.stack)}`);
  const version = from === 'latest' ? versions[versions.length - 1] : from;
  if (!versions.includes(version)) throw new UsageError(`no config backup ${version} of stack ${o.stack}; available: ${versions.slice(-5).join(', ')}`);
  const manifestKey = `${configPrefix(o.stack)}${version}/${MANIFEST_FILE}`;
  const manifest = parseConfigManifest(await readText(await o.store.get(manifestKey)), manifestKey, o.stack);
  const bodies = new Map<string, string>();
  for (const f of manifest.files) {
    let body: string;
    try {
      body = await readText(await o.store.get(f.key));
    } catch (err) {
      if (err instanceof NotFoundError) throw new VerificationError(`refusing to restore ${o.stack} ${version}: ${f.key} is missing`);
      throw err;
    }
    const got = sha256(body);
    const size = Buffer.byteLength(body, 'utf8');
    if (got !== f.sha256 || size !== f.size_bytes) {
      throw new VerificationError(`refusing to restore ${o.stack} ${version}: ${f.key} hashes to sha256:${got} (${size} bytes), the manifest says sha256:${f.sha256} (${f.size_bytes} bytes); the stack was not touched`);
    }
    bodies.set(f.name, body);
    log(`verified ${f.key} sha256:${got.slice(0, 12)}…`);
  }
  const verified = manifest.files.map(({ name, sha256: h, size_bytes }) => ({ name, sha256: h, size_bytes }));
  const saved = savedMatrix(bodies);
  if (o.verifyOnly) return { stack: o.stack, version, location: o.store.location, verified, imported: false, ...saved };
  const stack = await o.driver.selectOrCreate(o.stack);
  const settings = bodies.get(settingsName(o.stack));
  if (settings !== undefined) {
    await stack.writeSettings(settings);
    log(`[${o.stack}] settings file restored (${settingsName(o.stack)})`);
  }
  await stack.importState(bodies.get(STATE_FILE)!);
  log(`[${o.stack}] state imported from ${version}`);
  return { stack: o.stack, version, location: o.store.location, verified, imported: true, ...saved };
}
