/**
 * Pure readings of the failover journal: what a failover's entries say about each step, whether it ended, and
 * which failover to resume. Shared by the engine, the split-brain guard and status commands.
 */

import type { FenceTier, JournalEntry, JournalPort } from './ports';
import type { FailoverMode, Incident, StepName } from './step-names';

type BeginEntry = Extract<JournalEntry, { kind: 'begin' }>;
type StepEntry = Extract<JournalEntry, { kind: 'step' }>;
type EndEntry = Extract<JournalEntry, { kind: 'end' }>;

/** One failover as its journal tells it. */
export interface JournalSummary {
  id: string;
  begin?: BeginEntry;
  end?: EndEntry;
  /** The last entry per step (`started` means: started, outcome unknown — the check decides on rerun). */
  steps: Partial<Record<StepName, StepEntry>>;
  /** Regions still owed a fence by the split-brain guard (pending-fence entries not followed by `fenced`). */
  pendingFences: Array<{ region: string; tiers: FenceTier[] }>;
}

export function summarize(id: string, entries: readonly JournalEntry[]): JournalSummary {
  const s: JournalSummary = { id, steps: {}, pendingFences: [] };
  const pending = new Map<string, Set<FenceTier>>();
  for (const e of entries) {
    if (e.id !== id) continue;
    if (e.kind === 'begin' && !s.begin) s.begin = e;
    else if (e.kind === 'end') s.end = e;
    else if (e.kind === 'step') s.steps[e.step] = e;
    else if (e.kind === 'pending-fence') {
      const set = pending.get(e.region) ?? new Set();
      e.tiers.forEach((t) => set.add(t));
      pending.set(e.region, set);
    } else if (e.kind === 'fenced') {
      const set = pending.get(e.region);
      e.tiers.forEach((t) => set?.delete(t));
      if (set && set.size === 0) pending.delete(e.region);
    }
  }
  s.pendingFences = [...pending.entries()].map(([region, tiers]) => ({ region, tiers: [...tiers] }));
  return s;
}

/** True when the journal says the step finished (acted or found done). */
export function stepDone(s: JournalSummary, step: StepName): boolean {
  return s.steps[step]?.phase === 'done';
}

/** The latest failover that began and has not ended (the one `--resume` continues), or undefined. */
export async function findResumable(journal: JournalPort): Promise<{ id: string; mode: FailoverMode; incident: Incident; from: string; to: string } | undefined> {
  const ids = await journal.list();
  for (let i = ids.length - 1; i >= 0; i--) {
    const s = summarize(ids[i], (await journal.read(ids[i])).entries);
    if (s.begin && !s.end) return { id: s.id, mode: s.begin.mode, incident: s.begin.incident, from: s.begin.from, to: s.begin.to };
  }
  return undefined;
}

/** Close an unfinished failover on an operator's decision, so a new one may start. Nothing is undone. */
export async function abandonFailover(journal: JournalPort, id: string, reason: string, now: Date = new Date()): Promise<void> {
  await journal.append({ kind: 'end', id, at: now.toISOString(), outcome: 'abandoned', detail: reason });
}

/** Every failover, oldest first, summarised. */
export async function readAll(journal: JournalPort): Promise<JournalSummary[]> {
  const out: JournalSummary[] = [];
  for (const id of await journal.list()) out.push(summarize(id, (await journal.read(id)).entries));
  return out;
}
