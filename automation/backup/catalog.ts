/**
 * What backups exist: list a service/tier prefix, pair data objects with their manifests, and read manifests.
 * Pure helpers (`pairObjects`) are separate from the store-walking ones.
 */
import { BACKUP_SERVICES, BACKUP_TIERS, BackupService, BackupTier, tierPrefix } from '../../lib/lifecycle';
import { Manifest, parseManifest } from './manifest';
import { manifestKeyFor, parseKey, ParsedKey } from './keys';
import { ObjectStore } from './ports';
import type { Readable } from 'node:stream';

/** One backup as seen in the bucket: data object and/or manifest. */
export interface BackupEntry extends ParsedKey {
  size?: number;
  manifestKey: string;
  hasData: boolean;
  hasManifest: boolean;
  /** Complete = both data and manifest present. Only complete backups are restorable. */
  complete: boolean;
  lastModified?: Date;
}

/** Pair listed objects into backups (pure). Unknown keys are ignored. Sorted oldest → newest. */
export function pairObjects(objects: ReadonlyArray<{ key: string; size: number; lastModified?: Date }>): BackupEntry[] {
  const byData = new Map<string, BackupEntry>();
  for (const o of objects) {
    const p = parseKey(o.key);
    if (!p) continue;
    let e = byData.get(p.dataKey);
    if (!e) {
      e = { ...p, isManifest: false, manifestKey: manifestKeyFor(p.dataKey), hasData: false, hasManifest: false, complete: false };
      byData.set(p.dataKey, e);
    }
    if (p.isManifest) e.hasManifest = true;
    else {
      e.hasData = true;
      e.size = o.size;
      e.lastModified = o.lastModified;
    }
    e.complete = e.hasData && e.hasManifest;
  }
  return [...byData.values()].sort((a, b) => a.date.getTime() - b.date.getTime() || a.dataKey.localeCompare(b.dataKey));
}

/** Every backup entry for the given services/tiers (default: all). */
export async function listBackups(store: ObjectStore, opts: { service?: BackupService; tier?: BackupTier } = {}): Promise<BackupEntry[]> {
  const services = opts.service ? [opts.service] : [...BACKUP_SERVICES];
  const tiers = opts.tier ? [opts.tier] : [...BACKUP_TIERS];
  const out: BackupEntry[] = [];
  for (const s of services) for (const t of tiers) out.push(...pairObjects(await store.list(tierPrefix(s, t))));
  return out.sort((a, b) => a.date.getTime() - b.date.getTime() || a.dataKey.localeCompare(b.dataKey));
}

export async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks).toString('utf8');
}

export async function readManifest(store: ObjectStore, dataKeyOrManifestKey: string): Promise<Manifest> {
  const key = dataKeyOrManifestKey.endsWith('.metadata.json') ? dataKeyOrManifestKey : manifestKeyFor(dataKeyOrManifestKey);
  const text = await readText(await store.get(key));
  return parseManifest(text, key);
}

