/**
 * The rehearsal's bot: a worker that posts to a chat with the community bot's CURRENT token through grammY's `Api`,
 * the way a bot application does, taking the token from the bot runtime (`createTokenRuntime`, the module a bot
 * imports). A 401 is reported to the runtime, which re-reads the store at once and follows the monitor's switch.
 *
 * Each call also advances one of the bot's conversations, kept in Redis (through the `cache` service name, like
 * the bot's sessions): a conversation that keeps counting across a token switch is a session kept (seed 000 IV2).
 */
import { Api, GrammyError } from 'grammy';
import type Redis from 'ioredis';
import { readDnsFile } from '../adapters/rehearsal/local-dns';
import { LocalEnv } from '../adapters/rehearsal/local-env';
import { redisClient } from '../adapters/rehearsal/processes';
import type { LocalState } from '../adapters/rehearsal/state';
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
