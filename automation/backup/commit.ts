/**
 * The commit half of every backup (PostgreSQL, Redis, Redis from an ElastiCache export): re-check the stored
 * object's size, build the manifest, write it (the commit marker), then prune the tier. Only after the
 * manifest is written does a backup exist, and pruning runs only after that, so a failed run never shrinks
 * the tier.
 */
import * as path from 'node:path';
import type { BackupService, BackupTier } from '../../lib/lifecycle';
import { OperationError } from '../core/errors';
import { listBackups } from './catalog';
import { backupId, manifestKeyFor } from './keys';
import { Manifest, MANIFEST_FORMAT, retentionLabel, sizeReadable } from './manifest';
import { ObjectStore } from './ports';
import { planPrune, PrunePlan } from './retention';
import { Clock } from '../core/clock';

export type Log = (line: string) => void;
const noop: Log = () => undefined;

/** What was streamed into the store under `key`. */
export interface StoredObject {
  key: string;
  bytes: number;
  sha256: string;
}

/**
 * The stored object must be exactly the bytes we sent; otherwise delete it and fail (no manifest is written).
 * `verb` names the transfer in the message (`upload`, `copy`).
 */
export async function assertStoredSize(store: ObjectStore, obj: StoredObject, verb: string): Promise<void> {
  const head = await store.head(obj.key);
  if (!head || head.size !== obj.bytes) {
    await store.delete([obj.key]).catch(() => undefined);
    throw new OperationError(`${verb} of ${obj.key} reports ${head?.size ?? 'no object'} bytes, expected ${obj.bytes}; no backup was recorded`);
  }
}

/** The service-specific manifest fields, in the order they appear in the manifest. */
export type ManifestDetails = Pick<Manifest, 'database' | 'server_version' | 'source' | 'tool_versions'> &
  Partial<Pick<Manifest, 'tables' | 'keys' | 'key_sample' | 'snapshot' | 'compression' | 'safety'>>;

export interface ManifestBase {
  service: BackupService;
  tier: BackupTier | 'safety';
  /** The backup's start (clock time; names the key and the backup id). */
  started: Date;
  /** Date.now() at the start, for duration_seconds. */
  t0: number;
  /** How many of this tier are kept (the retention label). */
  keep: number;
  stored: StoredObject;
}

/** A new (UNVERIFIED) manifest for a stored full backup; duration runs from `t0` to now. */
export function dataManifest(b: ManifestBase, details: ManifestDetails): Manifest {
  return {
    format: MANIFEST_FORMAT,
    backup_id: backupId(b.started),
    type: 'full',
    service: b.service,
    tier: b.tier,
    timestamp: b.started.toISOString(),
    key: b.stored.key,
    size_bytes: b.stored.bytes,
    size_readable: sizeReadable(b.stored.bytes),
    duration_seconds: Math.round((Date.now() - b.t0) / 10) / 100,
    files: [path.posix.basename(b.stored.key)],
    checksum: `sha256:${b.stored.sha256}`,
    ...details,
    verified: true,
    retention: retentionLabel(b.tier, b.keep),
    restorability: 'UNVERIFIED',
  };
}

/** Write the manifest next to its data (the commit marker); returns the manifest's key. */
export async function commitManifest(store: ObjectStore, manifest: Manifest, log: Log = noop): Promise<string> {
  const manifestKey = manifestKeyFor(manifest.key);
  await store.put(manifestKey, JSON.stringify(manifest, null, 2) + '\n', 'application/json');
  log(`stored ${manifest.size_readable} (${manifest.checksum}); manifest ${manifestKey}`);
  return manifestKey;
}

export function emptyPlan(): PrunePlan {
  return { keep: [], expired: [], leftovers: [], deleteKeys: [] };
}

export async function pruneTier(store: ObjectStore, service: BackupService, tier: BackupTier, keep: number, now: Date, log: Log = noop): Promise<PrunePlan> {
  const plan = planPrune(await listBackups(store, { service, tier }), keep, now);
  if (plan.deleteKeys.length) {
    await store.delete(plan.deleteKeys);
    log(`pruned ${plan.expired.length} expired and ${plan.leftovers.length} incomplete ${service}/${tier} backup(s)`);
  }
  return plan;
}

/** Prune the tier after a committed backup, unless the caller turned pruning off (`prune: false`). */
export function pruneAfterCommit(o: { store: ObjectStore; tier: BackupTier; clock: Clock; prune?: boolean }, service: BackupService, keep: number, log: Log = noop): Promise<PrunePlan> {
  return o.prune === false ? Promise.resolve(emptyPlan()) : pruneTier(o.store, service, o.tier, keep, o.clock.now(), log);
}
