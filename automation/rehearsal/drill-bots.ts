/**
 * The bot tier of the datacenter drill (issue 11, one consumer per token), on the environment's fake Telegram:
 *
 * - A polling worker in each region ({@link PollingBotWorker}) follows the bot runtime with its region's copy of the
 *   community bot's secret: a's consumes (`active_region` = a), b's reads its replica and waits.
 * - Users write to the bot at a steady rate before, during and after the failover (`pushUpdate` on the platform's
 *   control API); Telegram queues what nobody takes.
 * - When region a is lost its worker dies with it (no confirmation: its last batch stays queued). The failover writes
 *   `active_region` = b into b's promoted copy, and b's worker starts consuming at its next runtime poll.
 * - When a comes back, the split-brain guard sets a's copy to b; a's worker, started again, reads
 *   `shouldConsume() === false` and consumes nothing.
 * - Then the users stop, b drains the queue, and the figures are collected: updates sent, handled in each region,
 *   lost (sent − handled − still queued), the fake's 409s after the switch, where updates go (`polling`).
 */
import type { PlatformControl } from '../adapters/rehearsal/platform-server';
import type { LocalState } from '../adapters/rehearsal/state';
import { sleep } from '../core/clock';
import { OperationError } from '../core/errors';
import { registerSecret } from '../core/redact';
import { PollingBotWorker } from './bot-worker';
import type { DrillBots, DrillCheck } from './drill-result';
import { round2 } from './drill-result';
import { platformControl } from './environment';
import { localTokenStore } from './token-monitor';

/** The drill's polling bot. */
export const POLLING_BOT = 'community';

/** Users' messages per second. */
const RATE = 20;

/** How long a returning region's worker is watched (it must consume nothing). */
const WATCH_RETURNED_MS = 1500;

type ConflictRecord = { at: string; kind: string; consumer: string; by?: string };

/** The bot tier of one datacenter drill (see the module comment). */
export class BotTierDrill {
  private readonly control: PlatformControl;
  private readonly workers: PollingBotWorker[] = [];
  private a?: PollingBotWorker;
  private b?: PollingBotWorker;
  private returned?: PollingBotWorker;
  private token = '';
  private sent: Array<{ update_id: number; at: number }> = [];
  private pushing = false;
  private pusher?: Promise<void>;
  private lostAt = 0;
  /** When the failover's switch-dns step was journaled done (ms), if it was. */
  dnsSwitchedAt?: number;

  constructor(private readonly state: LocalState) {
    this.control = platformControl(state);
  }

  /** Both regions' workers, and the users writing. */
  async start(): Promise<string> {
    const { record } = await localTokenStore(this.state).read(POLLING_BOT);
    this.token = record.tokens[record.active];
    registerSecret(this.token);
    this.a = await this.worker('a');
    this.b = await this.worker('b');
    this.pushing = true;
    this.pusher = this.push();
    return `${POLLING_BOT} (Telegram, polling): a worker in a (consuming: ${this.a.consuming}) and one in b (consuming: ${this.b.consuming}); users write ${RATE} updates/s`;
  }

  private async worker(region: 'a' | 'b'): Promise<PollingBotWorker> {
    const w = new PollingBotWorker(this.state, { region, bot: POLLING_BOT });
    await w.start();
    this.workers.push(w);
    return w;
  }

  private async push(): Promise<void> {
    let n = 0;
    while (this.pushing) {
      n++;
      const update = { message: { message_id: n, date: Math.floor(Date.now() / 1000), chat: { id: -1001000000001, type: 'group' }, from: { id: 5000 + (n % 10), is_bot: false, first_name: `user${n % 10}` }, text: `message ${n}` } };
      const id = await this.control.pushUpdate(this.token, update).catch(() => null);
      if (id !== null) this.sent.push({ update_id: id, at: Date.now() });
      await sleep(1000 / RATE);
    }
  }

  /** Region a is lost: its worker dies with it. */
  async regionLost(at: number): Promise<void> {
    this.lostAt = at;
    await this.a?.crash();
  }

  /** Region a is back: its worker starts again, reading a's copy (set by the guard by now); it must consume nothing. */
  async regionReturned(): Promise<string> {
    this.returned = await this.worker('a');
    await sleep(WATCH_RETURNED_MS);
    return `a's worker started again: shouldConsume() ${this.returned.consuming}, ${this.returned.polls} getUpdates, ${this.returned.handled.length} update(s) handled in ${WATCH_RETURNED_MS / 1000} s`;
  }

  /** Stop the users, let b drain the queue, stop every worker, and measure. */
  async finish(drainMs = 5000): Promise<{ bots: DrillBots; checks: DrillCheck[] }> {
    this.pushing = false;
    await this.pusher;
    const deadline = Date.now() + drainMs;
    const handledIds = () => new Set(this.workers.flatMap((w) => w.handled.map((h) => h.update_id)));
    while (Date.now() < deadline && this.sent.some((s) => !handledIds().has(s.update_id))) await sleep(50);
    await this.stop();
    const queued = (await this.control.op<Array<{ update_id: number }>>({ op: 'queuedUpdates', token: this.token })).map((u) => u.update_id);
    const conflicts = await this.control.op<ConflictRecord[]>({ op: 'conflicts', token: this.token });
    const info = await this.control.op<{ url?: string }>({ op: 'webhookInfo', token: this.token });
    return this.measure(queued, conflicts, info.url ?? '');
  }

  private measure(queued: number[], conflicts: ConflictRecord[], webhookUrl: string): { bots: DrillBots; checks: DrillCheck[] } {
    const inA = [this.a!, ...(this.returned ? [this.returned] : [])].flatMap((w) => w.handled);
    const inB = this.b!.handled;
    const handled = new Set([...inA, ...inB].map((h) => h.update_id));
    const waiting = new Set(queued);
    const lost = this.sent.filter((s) => !handled.has(s.update_id) && !waiting.has(s.update_id)).length;
    const switchAt = this.b!.consumingSince;
    const after = switchAt === undefined ? conflicts : conflicts.filter((c) => Date.parse(c.at) >= switchAt);
    const firstB = inB.find((h) => h.at > this.lostAt);
    const twice = [...inA.map((h) => h.update_id)].filter((id) => inB.some((h) => h.update_id === id)).length;
    const bots: DrillBots = {
      bot: POLLING_BOT,
      updates_sent: this.sent.length,
      updates_handled_a: inA.length,
      updates_handled_b: inB.length,
      updates_lost: lost,
      conflicts_after_switch: after.length,
      webhook_target: webhookUrl === '' ? 'polling' : webhookUrl.split('?')[0],
      updates_still_queued: waiting.size,
      updates_handled_twice: twice,
      conflicts_total: conflicts.length,
      switch_seconds: firstB && this.lostAt ? round2((firstB.at - this.lostAt) / 1000) : null,
      dns_switch_to_first_update_seconds: firstB && this.dnsSwitchedAt ? round2((firstB.at - this.dnsSwitchedAt) / 1000) : null,
      consuming_b_after_seconds: switchAt !== undefined && this.lostAt ? round2((switchAt - this.lostAt) / 1000) : null,
      returned_a: this.returned ? { consuming: this.returned.consuming, polls: this.returned.polls, handled: this.returned.handled.length } : null,
    };
    const checks: DrillCheck[] = [
      { name: 'bots: b consumes after the switch', ok: inB.length > 0 && firstB !== undefined, detail: `b's worker handled ${inB.length} update(s), the first ${bots.switch_seconds ?? '?'} s after the failure` },
      { name: 'bots: the returning region consumes nothing', ok: !!this.returned && !this.returned.consuming && this.returned.polls === 0 && this.returned.handled.length === 0, detail: bots.returned_a ? `a's worker, started again: shouldConsume() ${bots.returned_a.consuming}, ${bots.returned_a.polls} getUpdates, ${bots.returned_a.handled} handled` : 'a never came back' },
      { name: 'bots: no 409 conflict after the switch', ok: after.length === 0, detail: `${after.length} conflict(s) after b started consuming (${conflicts.length} in the whole drill)${after.length ? `: ${after.map((c) => `${c.consumer}'s poll ended by ${c.by ? `${c.by}'s getUpdates` : c.kind} at ${c.at}`).join('; ')}` : ''}` },
      { name: 'bots: no update lost', ok: lost === 0, detail: `${bots.updates_sent} sent, ${handled.size} handled (a ${inA.length}, b ${inB.length}, ${twice} twice), ${waiting.size} still queued, ${lost} lost` },
    ];
    return { bots, checks };
  }

  /** Stop the users and every worker (idempotent). */
  async stop(): Promise<void> {
    this.pushing = false;
    await this.pusher?.catch(() => undefined);
    await Promise.all(this.workers.map((w) => w.stop().catch(() => undefined)));
  }

  /** The worker in b must be consuming within `timeoutMs` of the failover (it reads b's promoted copy). */
  async waitSwitched(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.b?.handled.some((h) => h.at > this.lostAt)) {
      if (Date.now() > deadline) throw new OperationError(`b's bot worker handled no update within ${timeoutMs / 1000} s of the failover (consuming: ${this.b?.consuming})`);
      await sleep(50);
    }
  }
}
