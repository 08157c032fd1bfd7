/**
 * The rehearsal's bots. {@link BotWorker}: a worker that posts to a chat with the community bot's CURRENT token through grammY's `Api`,
 * the way a bot application does, taking the token from the bot runtime (`createTokenRuntime`, the module a bot
 * imports). A 401 is reported to the runtime, which re-reads the store at once and follows the monitor's switch.
 *
 * Each call also advances one of the bot's conversations, kept in Redis (through the `cache` service name, like
 * the bot's sessions): a conversation that keeps counting across a token switch is a session kept (seed 000 IV2).
 * {@link PollingBotWorker}: a region's polling worker, gated on `shouldConsume()` (issue 11, the datacenter drill).
 */
import { Api, GrammyError } from 'grammy';
import type Redis from 'ioredis';
import { TelegramPoller } from '../adapters/bots/index';
import { RegionTokenStore } from '../adapters/rehearsal/local-bots';
import { readDnsFile } from '../adapters/rehearsal/local-dns';
import { LocalEnv } from '../adapters/rehearsal/local-env';
import { redisClient } from '../adapters/rehearsal/processes';
import type { LocalState, RegionName } from '../adapters/rehearsal/state';
import { sleep } from '../core/clock';
import { createTokenRuntime, type TokenRuntime } from '../bot-runtime/index';
import { localPlatformUrls, localTokenStore } from './token-monitor';

/** One call of the worker. */
export interface BotCall {
  at: number;
  ok: boolean;
  /** The token index the call used. */
  index: number;
  status?: number;
}

/** The bot's conversations (one step per call, round robin: each advances once a second at 10 calls/s). */
export const CONVERSATIONS = 10;

export class BotWorker {
  readonly calls: BotCall[] = [];
  private runtime?: TokenRuntime;
  private running = false;
  private loop?: Promise<void>;
  private redis?: { client: Redis; region: string };
  private seq = 0;
  private readonly env: LocalEnv;

  constructor(
    private readonly state: LocalState,
    private readonly bot = 'community',
    private readonly callsPerSecond = 10,
  ) {
    this.env = new LocalEnv(state);
  }

  async start(): Promise<void> {
    this.runtime = await createTokenRuntime({ store: localTokenStore(this.state), bot: this.bot, pollMs: 250, unauthorizedPollMs: 100 });
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.runtime?.close();
    this.redis?.client.disconnect();
  }

  get stats(): { calls_ok: number; calls_failed: number } {
    return { calls_ok: this.calls.filter((c) => c.ok).length, calls_failed: this.calls.filter((c) => !c.ok).length };
  }

  /** Every conversation's step counter, from Redis (the bot's sessions). */
  async conversations(): Promise<Record<string, number>> {
    const c = await this.cache();
    const out: Record<string, number> = {};
    for (let i = 0; i < CONVERSATIONS; i++) out[`chat-${i}`] = Number((await c.hget(`conv:${this.bot}:chat-${i}`, 'step')) ?? 0);
    return out;
  }

  private async cache(): Promise<Redis> {
    const region = readDnsFile(this.state.dns_file).records.cache ?? 'a';
    if (this.redis?.region === region) return this.redis.client;
    this.redis?.client.disconnect();
    const client = redisClient(this.env.redisPort(region), this.env.redisPassword, { connectTimeout: 1000 });
    await client.connect();
    this.redis = { client, region };
    return client;
  }

  private async run(): Promise<void> {
    const urls = localPlatformUrls(this.state);
    const interval = 1000 / this.callsPerSecond;
    while (this.running) {
      const rt = this.runtime!;
      const index = rt.activeIndex();
      const chat = `chat-${this.seq++ % CONVERSATIONS}`;
      const call: BotCall = { at: 0, ok: false, index };
      try {
        await new Api(rt.activeToken(), { apiRoot: urls.telegram }).sendMessage(-1001000000001, `step for ${chat}`);
        await (await this.cache()).hincrby(`conv:${this.bot}:${chat}`, 'step', 1).catch(() => undefined);
        call.ok = true;
      } catch (err) {
        if (err instanceof GrammyError) {
          call.status = err.error_code;
          if (err.error_code === 401) await rt.reportUnauthorized().catch(() => undefined);
        }
      }
      call.at = Date.now();
      this.calls.push(call);
      await sleep(interval);
    }
  }
}

/** One update a polling worker handled. */
export interface HandledUpdate {
  update_id: number;
  /** When it was handled (ms since the epoch). */
  at: number;
}

/** Options of {@link PollingBotWorker}. */
export interface PollingWorkerOptions {
  /** The region the worker runs in: its copy of the bots' secrets, its `shouldConsume()`, its `X-Dr-Consumer` label. */
  region: RegionName;
  bot?: string;
  /** The runtime's store poll (default 250 ms: the rehearsal's stand-in for 30 s). */
  pollMs?: number;
  /** Long-poll timeout of getUpdates, seconds (default 1: a stop is never far away). */
  longPollSeconds?: number;
}

/**
 * The rehearsal's polling bot (issue 11, one consumer per token): a worker in one region that follows the bot runtime
 * with that region's copy of the secret and consumes the community bot's updates with `getUpdates` only while
 * `shouldConsume()` says so, as a grammY `bot.start()` gated on it would: long polls labelled `X-Dr-Consumer: <region>`,
 * each confirming what the previous one returned (`offset`); on a flip to false it ends its poll and confirms what it
 * handled with one last `getUpdates(offset, timeout 0)` (grammY's `bot.stop()`); {@link stop} first lets the poll in
 * flight end by itself. {@link crash} is the region dying:
 * no confirmation, the last batch stays queued for the next consumer.
 */
export class PollingBotWorker {
  readonly handled: HandledUpdate[] = [];
  /** Every 409 this worker got, by kind. */
  readonly conflicts: Array<{ at: number; reason: string }> = [];
  polls = 0;
  /** When shouldConsume() first said true in this worker (undefined: never). */
  consumingSince?: number;
  private runtime?: TokenRuntime;
  private running = false;
  private loop?: Promise<void>;
  private inflight?: AbortController;
  private poller?: { token: string; poller: TelegramPoller };
  private wake = new AbortController();
  private crashed = false;
  private readonly bot: string;

  constructor(
    private readonly state: LocalState,
    private readonly o: PollingWorkerOptions,
  ) {
    this.bot = o.bot ?? 'community';
  }

  get region(): RegionName {
    return this.o.region;
  }

  /** Whether the runtime lets it consume right now. */
  get consuming(): boolean {
    return !!this.runtime?.shouldConsume();
  }

  async start(): Promise<void> {
    this.runtime = await createTokenRuntime({ store: new RegionTokenStore(this.state, this.o.region), bot: this.bot, region: this.o.region, pollMs: this.o.pollMs ?? 250 });
    this.runtime.onConsumeChange(() => {
      this.inflight?.abort(); // a flip ends the long poll at once (the fake counts a hang-up as no conflict)
      this.wake.abort();
    });
    this.running = true;
    this.loop = this.run();
  }

  /**
   * A graceful stop: let the poll in flight end by itself (at most the long-poll timeout), confirm what was handled,
   * stop following the store. Not aborted: an aborted poll the platform has not yet seen hang up would be ended by the
   * confirming getUpdates with a 409 of the worker's own making (a race the fake Telegram, like Telegram, can lose).
   */
  async stop(): Promise<void> {
    this.running = false;
    if (this.crashed) this.inflight?.abort();
    this.wake.abort();
    await this.loop;
    await this.runtime?.close();
  }

  /** The region dies with the worker in it: nothing more is sent, nothing is confirmed. */
  async crash(): Promise<void> {
    this.crashed = true;
    await this.stop();
  }

  private async run(): Promise<void> {
    const apiRoot = localPlatformUrls(this.state).telegram;
    while (this.running) {
      const rt = this.runtime!;
      if (!rt.shouldConsume()) {
        await this.confirmAndDrop(apiRoot);
        this.wake = new AbortController();
        await sleep(100, this.wake.signal).catch(() => undefined);
        continue;
      }
      this.consumingSince ??= Date.now();
      const token = rt.activeToken();
      if (this.poller?.token !== token) this.poller = { token, poller: new TelegramPoller(token, { apiRoot, consumer: this.o.region, timeoutSeconds: this.o.longPollSeconds ?? 1 }) };
      this.inflight = new AbortController();
      this.polls++;
      try {
        const out = await this.poller.poller.poll(this.inflight.signal);
        if (out.kind === 'conflict') this.conflicts.push({ at: Date.now(), reason: out.reason });
        else for (const u of out.updates) this.handled.push({ update_id: u.update_id, at: Date.now() });
      } catch {
        if (!this.inflight.signal.aborted) await sleep(100).catch(() => undefined); // the platform did not answer: retry
      }
    }
    if (!this.crashed) await this.confirmAndDrop(apiRoot);
  }

  /** grammY's `bot.stop()`: one last getUpdates with the next offset and no wait confirms what was handled. */
  private async confirmAndDrop(apiRoot: string): Promise<void> {
    const p = this.poller;
    this.poller = undefined;
    if (!p || this.crashed || p.poller.offset === 0) return;
    await new TelegramPoller(p.token, { apiRoot, consumer: this.o.region, timeoutSeconds: 0, offset: p.poller.offset }).poll().catch(() => undefined);
  }
}
