/**
 * The platform server of the local environment: one long-lived host for the fake Telegram and the fake Discord
 * (each on its own 127.0.0.1 port, exactly as tests use them) plus an HTTP control API on a third port, so the
 * rehearsal's other processes (the drill, the workers, `dr` commands) can steer and read the fakes while they run.
 * `dr local up` runs it as a detached child process ({@link startPlatform}, like s3rver), so it outlives `up` and
 * serves `dr tokens --file`, `dr drill` and `dr readiness --local`; tests run {@link PlatformServer} in-process.
 *
 *   const pid = await startPlatform({ telegramPort, discordPort, controlPort, controlKey, bots }, { log });
 *   const c = new PlatformControl(`http://127.0.0.1:${controlPort}`, controlKey);  await c.revoke(token);
 *
 * The fakes themselves stay controllable only in-process ({@link PlatformServer.telegram} / `.discord`): the
 * control API is a separate listener, so a bot client can never reach it by mistake. Its protocol:
 * `POST {control}/control` with a JSON {@link ControlOp} and the header `X-Dr-Control-Key: <key>` (generated at
 * start unless given; a request without it gets 401) → `200 { ok: true, result }`, or `400 { ok: false, error }` for
 * an op that is unknown, malformed or names something the fakes do not have. Results are redacted (token values
 * registered with `addToken` never come back); permission bits travel as decimal strings.
 *
 * {@link PlatformControl} is the typed client. {@link platformReadyLine} is the one JSON line a launcher prints once
 * the server listens (URLs and the control key), for the process that started it to read.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { errorText, OperationError, UsageError } from '../../core/errors';
import { redactValue, registerSecret } from '../../core/redact';
import type { Platform } from '../../tokens';
import { DEFAULT_TOOL_PATH, isAlive, sleep } from '../tools/proc';
import { FakeDiscord, type DiscordUserRef, type FakeDiscordOptions } from './fake-discord';
import type { FakeChannelConfig, FakeGuildConfig, FakeMemberConfig, FakeOverwriteConfig, FakeRoleConfig } from './fake-discord-guilds';
import type { FakeFault } from './fake-platform';
import { FakeTelegram, type FakeTelegramOptions, type MemberRef } from './fake-telegram';
import type { FakeChat, FakeMembership } from './fake-telegram-chats';

/** Ops on tokens and faults, for either platform (the fakes' existing controls). */
export type TokenControlOp =
  | { op: 'addToken'; platform: Platform; token: string; id?: string; username?: string }
  | { op: 'revoke' | 'restore' | 'clearRateLimit' | 'heal' | 'calls'; platform?: Platform; token: string }
  | { op: 'rateLimit'; platform?: Platform; token: string; seconds: number; global?: boolean }
  | { op: 'fail'; platform?: Platform; token: string; fault: FakeFault }
  | { op: 'outage'; platform: Platform; fault: FakeFault | boolean }
  | { op: 'resetCalls'; platform: Platform };

/** Ops on the fake Telegram's updates, webhooks and chats (issue 11). */
export type TelegramControlOp =
  | { op: 'pushUpdate'; token: string; update: Record<string, unknown> }
  | { op: 'queuedUpdates' | 'consumers' | 'conflicts' | 'webhookRegistrations' | 'webhookDeliveries' | 'webhookInfo' | 'updateStats' | 'flushWebhook'; token: string }
  | { op: 'setChat'; chat: FakeChat }
  | { op: 'setChatMember'; chat: number | string; who: MemberRef; membership: FakeMembership }
  | { op: 'removeChatMember'; chat: number | string; who: MemberRef };

/** Ops on the fake Discord's guilds, channels and applications (issue 11). */
export type DiscordControlOp =
  | { op: 'setGuild'; guild: FakeGuildConfig }
  | { op: 'setRoles'; guildId: string; roles: FakeRoleConfig[]; everyone?: string }
  | { op: 'setMember'; guildId: string; who: DiscordUserRef; member: FakeMemberConfig }
  | { op: 'removeMember'; guildId: string; who: DiscordUserRef }
  | { op: 'setChannel'; channel: FakeChannelConfig }
  | { op: 'setOverwrites'; channelId: string; overwrites: FakeOverwriteConfig[] }
  | { op: 'setInteractionsEndpoint'; token: string; url: string | null }
  | { op: 'application' | 'applicationPatches'; token: string };

/** Everything the control API does. */
export type ControlOp = TokenControlOp | TelegramControlOp | DiscordControlOp | { op: 'urls' };

/** The two fakes an op applies to. */
export interface PlatformFakes {
  telegram: FakeTelegram;
  discord: FakeDiscord;
}

/** The header carrying the control key. */
export const CONTROL_KEY_HEADER = 'x-dr-control-key';

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new UsageError(`control op '${String(o.op)}': '${key}' must be a non-empty string`);
  return v;
}

function obj<T>(o: Record<string, unknown>, key: string): T {
  const v = o[key];
  if (!v || typeof v !== 'object') throw new UsageError(`control op '${String(o.op)}': '${key}' must be an object`);
  return v as T;
}

/** The fake an op names with `platform`, or — for an op on a token without it — the fake that knows the token. */
function platformOf(o: Record<string, unknown>, fakes: PlatformFakes): FakeTelegram | FakeDiscord {
  const p = o.platform;
  if (p === 'telegram') return fakes.telegram;
  if (p === 'discord') return fakes.discord;
  if (p === undefined && typeof o.token === 'string' && o.op !== 'addToken') {
    if (fakes.telegram.knows(o.token)) return fakes.telegram;
    if (fakes.discord.knows(o.token)) return fakes.discord;
    throw new UsageError(`control op '${String(o.op)}': not a token of this rehearsal`);
  }
  throw new UsageError(`control op '${String(o.op)}': 'platform' must be telegram or discord`);
}

function tokenOp(o: Record<string, unknown>, fakes: PlatformFakes): { done: true; result: unknown } | undefined {
  const done = (result: unknown = true) => ({ done: true as const, result });
  switch (o.op) {
    case 'addToken': {
      const token = str(o, 'token');
      registerSecret(token);
      platformOf(o, fakes).addToken(token, { ...(typeof o.id === 'string' ? { id: o.id } : {}), ...(typeof o.username === 'string' ? { username: o.username } : {}) });
      return done();
    }
    case 'revoke':
    case 'restore':
    case 'clearRateLimit':
    case 'heal':
      platformOf(o, fakes)[o.op](str(o, 'token'));
      return done();
    case 'calls':
      return done(platformOf(o, fakes).calls(str(o, 'token')));
    case 'rateLimit':
      if (typeof o.seconds !== 'number' || !(o.seconds >= 0)) throw new UsageError("control op 'rateLimit': 'seconds' must be a number ≥ 0");
      platformOf(o, fakes).rateLimit(str(o, 'token'), o.seconds, { global: o.global === true });
      return done();
    case 'fail':
      platformOf(o, fakes).fail(str(o, 'token'), o.fault as FakeFault);
      return done();
    case 'outage':
      platformOf(o, fakes).outage(o.fault as FakeFault | boolean);
      return done();
    case 'resetCalls':
      platformOf(o, fakes).resetCalls();
      return done();
    default:
      return undefined;
  }
}

async function telegramOp(o: Record<string, unknown>, tg: FakeTelegram): Promise<{ done: true; result: unknown } | undefined> {
  const done = (result: unknown = true) => ({ done: true as const, result });
  switch (o.op) {
    case 'pushUpdate':
      return done({ update_id: tg.pushUpdate(str(o, 'token'), obj(o, 'update')) ?? null });
    case 'queuedUpdates':
      return done(tg.queuedUpdates(str(o, 'token')));
    case 'consumers':
      return done(tg.consumers(str(o, 'token')));
    case 'conflicts':
      return done(tg.conflicts(str(o, 'token')));
    case 'webhookRegistrations':
      return done(tg.webhookRegistrations(str(o, 'token')));
    case 'webhookDeliveries':
      return done(tg.webhookDeliveries(str(o, 'token')));
    case 'webhookInfo':
      return done(tg.webhookInfo(str(o, 'token')));
    case 'updateStats':
      return done(tg.updateStats(str(o, 'token')));
    case 'flushWebhook':
      await tg.flushWebhook(str(o, 'token'));
      return done();
    case 'setChat':
      tg.setChat(obj<FakeChat>(o, 'chat'));
      return done();
    case 'setChatMember':
      tg.setChatMember(o.chat as number | string, obj<MemberRef>(o, 'who'), obj<FakeMembership>(o, 'membership'));
      return done();
    case 'removeChatMember':
      tg.removeChatMember(o.chat as number | string, obj<MemberRef>(o, 'who'));
      return done();
    default:
      return undefined;
  }
}

function discordOp(o: Record<string, unknown>, dc: FakeDiscord): { done: true; result: unknown } | undefined {
  const done = (result: unknown = true) => ({ done: true as const, result });
  switch (o.op) {
    case 'setGuild':
      dc.setGuild(obj<FakeGuildConfig>(o, 'guild'));
      return done();
    case 'setRoles':
      dc.setRoles(str(o, 'guildId'), obj<FakeRoleConfig[]>(o, 'roles'), typeof o.everyone === 'string' ? o.everyone : undefined);
      return done();
    case 'setMember':
      dc.setMember(str(o, 'guildId'), obj<DiscordUserRef>(o, 'who'), obj<FakeMemberConfig>(o, 'member'));
      return done();
    case 'removeMember':
      dc.removeMember(str(o, 'guildId'), obj<DiscordUserRef>(o, 'who'));
      return done();
    case 'setChannel':
      dc.setChannel(obj<FakeChannelConfig>(o, 'channel'));
      return done();
    case 'setOverwrites':
      dc.setOverwrites(str(o, 'channelId'), obj<FakeOverwriteConfig[]>(o, 'overwrites'));
      return done();
    case 'setInteractionsEndpoint':
      dc.setInteractionsEndpoint(str(o, 'token'), typeof o.url === 'string' && o.url !== '' ? o.url : null);
      return done();
    case 'application':
      return done(dc.application(str(o, 'token')));
    case 'applicationPatches':
      return done(dc.applicationPatches(str(o, 'token')));
    default:
      return undefined;
  }
}

/**
 * Apply one op to the fakes and return its result (redacted). A malformed or unknown op, or one naming a token,
 * chat, guild or channel the fakes do not have, is a UsageError.
 */
export async function applyControlOp(fakes: PlatformFakes, op: ControlOp | Record<string, unknown>): Promise<unknown> {
  const o = op as Record<string, unknown>;
  if (!o || typeof o !== 'object' || typeof o.op !== 'string') throw new UsageError("control op: expected an object with an 'op' string");
  let out: { done: true; result: unknown } | undefined;
  try {
    if (o.op === 'urls') out = { done: true, result: { telegram: fakes.telegram.url, discord_api: fakes.discord.api } };
    out ??= tokenOp(o, fakes) ?? (await telegramOp(o, fakes.telegram)) ?? discordOp(o, fakes.discord);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`control op '${o.op}': ${errorText(err)}`);
  }
  if (!out) throw new UsageError(`control op '${o.op}': unknown op`);
  return redactValue(out.result);
}

/** Options of {@link PlatformServer}. */
export interface PlatformServerOptions {
  /** The fakes' clock (rate limits, 24 h update expiry, webhook error dates). */
  now?: () => number;
  /** The control key (default: 24 random bytes, hex). */
  controlKey?: string;
  telegram?: Omit<FakeTelegramOptions, 'now'>;
  discord?: Omit<FakeDiscordOptions, 'now'>;
}

/** Where a started platform server listens. */
export interface PlatformUrls {
  /** The Bot API root (`apiRoot` for grammY). */
  telegram: string;
  /** The `api` option for `@discordjs/rest`. */
  discord_api: string;
  /** The control API's origin. */
  control: string;
}

/** Both fakes and the control API (see the module comment). */
export class PlatformServer implements PlatformFakes {
  readonly telegram: FakeTelegram;
  readonly discord: FakeDiscord;
  readonly controlKey: string;
  private control?: http.Server;
  private controlOrigin = '';

  constructor(o: PlatformServerOptions = {}) {
    this.telegram = new FakeTelegram({ ...o.telegram, ...(o.now ? { now: o.now } : {}) });
    this.discord = new FakeDiscord({ ...o.discord, ...(o.now ? { now: o.now } : {}) });
    this.controlKey = o.controlKey ?? randomBytes(24).toString('hex');
    registerSecret(this.controlKey);
  }

  /** The three URLs once started. */
  get urls(): PlatformUrls {
    if (!this.controlOrigin) throw new OperationError('platform server is not started');
    return { telegram: this.telegram.url, discord_api: this.discord.api, control: this.controlOrigin };
  }

  /** Start both fakes and the control API on 127.0.0.1 (the given ports, ephemeral ones by default). */
  async start(ports: { telegram?: number; discord?: number; control?: number } = {}): Promise<this> {
    if (this.control) return this;
    await Promise.all([this.telegram.start(ports.telegram ?? 0), this.discord.start(ports.discord ?? 0)]);
    const server = http.createServer((req, res) => {
      this.serve(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports.control ?? 0, '127.0.0.1', () => resolve());
    });
    this.control = server;
    this.controlOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** Stop the control API and both fakes (every connection closed). Safe to call twice. */
  async stop(): Promise<void> {
    const server = this.control;
    this.control = undefined;
    this.controlOrigin = '';
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await Promise.all([this.telegram.stop(), this.discord.stop()]);
  }

  /** Apply an op in-process (what the control API does for a request). */
  apply(op: ControlOp): Promise<unknown> {
    return applyControlOp(this, op);
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.headers[CONTROL_KEY_HEADER] !== this.controlKey) return send(401, { ok: false, error: 'missing or wrong control key' });
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://127.0.0.1').pathname !== '/control') return send(404, { ok: false, error: 'POST /control only' });
    let op: unknown;
    try {
      op = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(400, { ok: false, error: 'the body is not JSON' });
    }
    try {
      send(200, { ok: true, result: await applyControlOp(this, op as ControlOp) });
    } catch (err) {
      send(400, { ok: false, error: redactValue(errorText(err)) });
    }
  }
}

/** The one line a launcher prints when the server listens (JSON: the URLs and the control key). */
export function platformReadyLine(server: PlatformServer): string {
  return JSON.stringify({ ready: true, ...server.urls, control_key: server.controlKey });
}

/** Parse {@link platformReadyLine}'s output back (UsageError when it is not that line). */
export function parsePlatformReadyLine(line: string): PlatformUrls & { control_key: string } {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new UsageError('platform server: the ready line is not JSON');
  }
  for (const k of ['telegram', 'discord_api', 'control', 'control_key']) if (typeof v[k] !== 'string') throw new UsageError(`platform server: the ready line has no ${k}`);
  return { telegram: v.telegram as string, discord_api: v.discord_api as string, control: v.control as string, control_key: v.control_key as string };
}

/** The typed client of the control API. */
export class PlatformControl {
  constructor(
    private readonly controlUrl: string,
    private readonly key: string,
    private readonly timeoutMs = 10_000,
  ) {
    registerSecret(key);
  }

  /** Send one op; its result, or an error: UsageError for a refused op, OperationError when the server does not answer. */
  async op<T = unknown>(op: ControlOp): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.controlUrl.replace(/\/+$/, '')}/control`, { method: 'POST', headers: { 'content-type': 'application/json', [CONTROL_KEY_HEADER]: this.key }, body: JSON.stringify(op), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new OperationError(`platform control: no answer from ${this.controlUrl} (${err instanceof Error ? err.name : 'error'})`);
    }
    const body = (await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }))) as { ok: boolean; result?: T; error?: string };
    if (body.ok) return body.result as T;
    throw new UsageError(`platform control: ${body.error ?? `HTTP ${res.status}`}`);
  }

  /** A user writes to a Telegram bot; the update_id, or null when the bot's allowed_updates filter it. */
  async pushUpdate(token: string, update: Record<string, unknown>): Promise<number | null> {
    return (await this.op<{ update_id: number | null }>({ op: 'pushUpdate', token, update })).update_id;
  }

  /** Set a bot's membership and rights in a Telegram chat. */
  setChatMember(chat: number | string, who: MemberRef, membership: FakeMembership): Promise<true> {
    return this.op({ op: 'setChatMember', chat, who, membership });
  }

  /** Set a Discord guild's roles (and @everyone's permissions). */
  setRoles(guildId: string, roles: FakeRoleConfig[], everyone?: string): Promise<true> {
    return this.op({ op: 'setRoles', guildId, roles, ...(everyone !== undefined ? { everyone } : {}) });
  }

  /** Replace a Discord channel's permission overwrites. */
  setOverwrites(channelId: string, overwrites: FakeOverwriteConfig[]): Promise<true> {
    return this.op({ op: 'setOverwrites', channelId, overwrites });
  }

  /** Revoke a token (the platform answers 401 for it from now on). */
  revoke(token: string): Promise<true> {
    return this.op({ op: 'revoke', token });
  }

  /** Make a revoked token valid again. */
  restore(token: string): Promise<true> {
    return this.op({ op: 'restore', token });
  }

  /** Take a platform down (`{ status: 502 }`, …) or bring it back (`false`). */
  outage(platform: Platform, fault: FakeFault | boolean): Promise<true> {
    return this.op({ op: 'outage', platform, fault });
  }

  /** Answer a token with 429 and `retry_after` for `seconds`. */
  rateLimit(token: string, seconds: number): Promise<true> {
    return this.op({ op: 'rateLimit', token, seconds });
  }

  /** Calls made with a token, per route. */
  calls(token: string): Promise<Record<string, number>> {
    return this.op({ op: 'calls', token });
  }
}

/** In the child's argv, so `/proc/<pid>/cmdline` tells our platform server from any other process. */
export const PLATFORM_PROCESS_TAG = 'dr-platform-local';
const ROOT = path.join(__dirname, '..', '..', '..');

/** One bot of the rehearsal and its tokens (every token is valid on its platform until revoked). */
export interface PlatformBot {
  name: string;
  platform: Platform;
  tokens: string[];
}

/** What the platform process serves: fixed ports (kept in the environment's state) and the bots' tokens. */
export interface PlatformOptions {
  telegramPort: number;
  discordPort: number;
  controlPort: number;
  controlKey: string;
  bots: PlatformBot[];
}

/**
 * A fresh token in the platform's real format (so validation and redaction see what they would in production):
 * Telegram `<bot id>:<35 of [A-Za-z0-9_-]>`, Discord three dot-separated base64url parts.
 */
export function generateToken(platform: Platform): string {
  if (platform === 'telegram') {
    const id = 6_000_000_000 + randomInt(0, 999_999_999);
    return `${id}:${randomBytes(27).toString('base64url').slice(0, 35)}`;
  }
  const id = String(BigInt(1_100_000_000_000_000_000n) + BigInt(randomInt(0, 2 ** 47)));
  return `${Buffer.from(id).toString('base64url')}.${randomBytes(6).toString('base64url')}.${randomBytes(27).toString('base64url')}`;
}

/** In the platform process (or in-process for a test): both fakes with the bots' tokens, and the control API. */
export async function servePlatform(o: PlatformOptions): Promise<PlatformServer> {
  const server = new PlatformServer({ controlKey: o.controlKey });
  for (const b of o.bots) {
    for (const [i, t] of b.tokens.entries()) {
      registerSecret(t);
      (b.platform === 'discord' ? server.discord : server.telegram).addToken(t, { username: `${b.name}_${i}_bot` });
    }
  }
  // A chat the rehearsal's bot worker posts to.
  server.telegram.method('sendMessage', ({ params, bot }) => ({ ok: true, result: { message_id: Date.now() % 1_000_000, chat: { id: Number(params.chat_id) || 0, type: 'group' }, from: { id: Number(bot.id), is_bot: true, first_name: bot.username }, date: Math.floor(Date.now() / 1000), text: String(params.text ?? '') } }));
  return server.start({ telegram: o.telegramPort, discord: o.discordPort, control: o.controlPort });
}

/**
 * Start the platform process detached (it outlives this one; output appended to `log`), resolving with its pid once
 * its control API answers. `env`: where PATH comes from. The options (tokens, control key) reach the child in its
 * environment, never in its argv.
 */
export async function startPlatform(o: PlatformOptions, opts: { log: string; env?: Record<string, string | undefined> }): Promise<number> {
  const script = `
    require('ts-node').register({ transpileOnly: true, swc: true, project: ${JSON.stringify(path.join(ROOT, 'tsconfig.json'))} });
    const { servePlatform } = require(${JSON.stringify(path.join(__dirname, 'platform-server.ts'))});
    const o = JSON.parse(process.env.DR_PLATFORM_OPTS); delete process.env.DR_PLATFORM_OPTS;
    servePlatform(o).then((p) => {
      console.log('dr platform listening');
      process.on('SIGTERM', () => p.stop().then(() => process.exit(0)));
    }, (e) => { console.error(e); process.exit(1); });
  `;
  const env = { PATH: opts.env?.PATH ?? DEFAULT_TOOL_PATH, DR_PLATFORM_OPTS: JSON.stringify(o), NODE_PATH: path.join(ROOT, 'node_modules'), TS_NODE_TRANSPILE_ONLY: 'true' };
  const out = fs.openSync(opts.log, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ['-e', script, PLATFORM_PROCESS_TAG], { env, stdio: ['ignore', out, out], cwd: ROOT, detached: true });
    child.unref();
  } finally {
    fs.closeSync(out);
  }
  const pid = child.pid;
  if (!pid) throw new OperationError('could not start the fake bot platforms');
  const control = new PlatformControl(`http://127.0.0.1:${o.controlPort}`, o.controlKey, 1000);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new OperationError(`the fake bot platforms exited during start; see ${opts.log}`);
    try {
      await control.op({ op: 'urls' });
      return pid;
    } catch {
      /* not listening yet */
    }
    await sleep(50);
  }
  throw new OperationError(`the fake bot platforms did not listen within 30 s; see ${opts.log}`);
}
