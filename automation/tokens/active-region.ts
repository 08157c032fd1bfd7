/**
 * One consumer per token (issue 11): the record's `active_region` names the one region whose bot workers consume
 * updates (poll `getUpdates`, hold Discord shards, answer webhooks). The failover writes it into the survivor's copy
 * of each bot's secret before DNS switches, and the split-brain guard into the lost region's copy when that region
 * answers again; the bot runtime reads it through {@link shouldConsume}.
 *
 * - {@link shouldConsume}: pure. No `active_region` → true (a record from before the field: every region consumes, the
 *   old behaviour); equal to the caller's region → true; anything else — including a caller that does not know its
 *   own region — → false. Failing closed is deliberate: two consumers of one token is the bot-level split brain.
 * - {@link setActiveRegion}: check-then-act over a {@link TokenStore}: read, leave a record that already says so,
 *   else a compare-and-set write of the same record with only `active_region` changed. A write that loses the race
 *   (the token monitor wrote in between) is re-read and retried; the request id is derived from the failover, the
 *   bot, the version read and the region, so a retried write of the same decision is idempotent in Secrets Manager
 *   (ClientRequestToken) and in the file store. No token is ever part of an error.
 */
import { OperationError } from '../core/errors';
import type { TokenRecord, TokenStore } from './ports';
import { decisionId } from './record';

/** Whether a worker in `region` may consume the bot's updates (see the module comment). */
export function shouldConsume(record: Pick<TokenRecord, 'active_region'>, region: string | undefined): boolean {
  if (record.active_region === undefined) return true;
  return region !== undefined && record.active_region === region;
}

/** What {@link setActiveRegion} found and did. */
export interface ActiveRegionWrite {
  outcome: 'written' | 'already';
  /** The region the record named before (undefined: it named none). */
  before?: string;
  /** The store version that now holds it. */
  version: string;
}

/** Options of {@link setActiveRegion}. */
export interface SetActiveRegionOptions {
  /** Who decides (the failover id, or the guard's failover): part of the idempotency key. */
  key: string;
  signal?: AbortSignal;
  /** Compare-and-set attempts before giving up (default 5). */
  attempts?: number;
}

/** Make `bot`'s record in `store` say `active_region = region` (see the module comment). Rejects when it cannot. */
export async function setActiveRegion(store: TokenStore, bot: string, region: string, o: SetActiveRegionOptions): Promise<ActiveRegionWrite> {
  const attempts = Math.max(1, o.attempts ?? 5);
  let last = '';
  for (let i = 0; i < attempts; i++) {
    const { record, version } = await store.read(bot, { signal: o.signal });
    if (record.active_region === region) return { outcome: 'already', before: region, version };
    const before = record.active_region;
    const requestId = decisionId(bot, version, `active_region ${region} by ${o.key}`, 0);
    const w = await store.write(bot, { ...record, active_region: region }, { expectVersion: version, requestId, signal: o.signal });
    if (w.outcome === 'written') return { outcome: 'written', ...(before !== undefined ? { before } : {}), version: w.version };
    last = w.detail;
  }
  throw new OperationError(`bot ${bot}: could not set active_region=${region} in ${store.location} after ${attempts} attempts (${last})`);
}
