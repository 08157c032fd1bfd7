/**
 * The local environment's bot platforms: the fake Telegram Bot API and the fake Discord API (real HTTP on
 * 127.0.0.1) in one long-lived child process, like s3rver, so `dr local up` leaves them running for the other
 * commands (`dr tokens --file`, `dr drill`, `dr readiness --local`). A small control server on its own port lets
 * the rehearsal revoke a token, rate-limit it or take a platform down, and read the call counts.
 *
 *   const p = await startPlatform({ telegramPort, discordPort, controlPort, bots }, { detachedLog });
 *   const c = new PlatformControl(controlPort);  await c.revoke(token);  await c.outage('telegram', { status: 502 });
 *
 * The control server answers only on 127.0.0.1 and only the operations below; it holds fake tokens of a
 * rehearsal, never real ones.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { OperationError } from '../../core/errors';
import type { Platform } from '../../tokens/index';
import { DEFAULT_TOOL_PATH, isAlive, sleep } from '../tools/proc';
import { FakeDiscord } from './fake-discord';
import type { FakeFault, FakePlatformServer } from './fake-platform';
import { FakeTelegram } from './fake-telegram';

/** In the child's argv, so `/proc/<pid>/cmdline` tells our platform server from any other process. */
export const PLATFORM_PROCESS_TAG = 'dr-platform-local';
const READY_LINE = 'dr platform listening';
const ROOT = path.join(__dirname, '..', '..', '..');

/** One bot of the rehearsal and its tokens (every token is valid on its platform until revoked). */
export interface PlatformBot {
  name: string;
  platform: Platform;
  tokens: string[];
}

export interface PlatformOptions {
  telegramPort: number;
  discordPort: number;
  controlPort: number;
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

/** What the rehearsal can ask of the platforms. */
export type ControlOp =
  | { op: 'revoke' | 'restore' | 'heal' | 'clearRateLimit'; token: string }
  | { op: 'rateLimit'; token: string; seconds: number }
  | { op: 'fail'; token: string; fault: FakeFault }
  | { op: 'outage'; platform: Platform; fault: FakeFault | boolean }
  | { op: 'calls'; token: string }
  | { op: 'resetCalls' };

export interface RunningPlatform {
  telegram: FakeTelegram;
  discord: FakeDiscord;
  close(): Promise<void>;
}

/** Apply one control operation to the fakes; returns what it reads (call counts) or `{ ok: true }`. */
export function applyControl(p: { telegram: FakeTelegram; discord: FakeDiscord }, c: ControlOp, platformOf: (token: string) => Platform | undefined): unknown {
  if (c.op === 'resetCalls') {
    p.telegram.resetCalls();
    p.discord.resetCalls();
    return { ok: true };
  }
  if (c.op === 'outage') {
    (c.platform === 'discord' ? p.discord : p.telegram).outage(c.fault);
    return { ok: true };
  }
  const which = platformOf(c.token);
  if (!which) throw new OperationError('control: not a token of this rehearsal');
  const fake: FakePlatformServer = which === 'discord' ? p.discord : p.telegram;
  switch (c.op) {
    case 'revoke':
      fake.revoke(c.token);
      break;
    case 'restore':
      fake.restore(c.token);
      break;
    case 'heal':
      fake.heal(c.token);
      break;
    case 'clearRateLimit':
      fake.clearRateLimit(c.token);
      break;
    case 'rateLimit':
      fake.rateLimit(c.token, c.seconds);
      break;
    case 'fail':
      fake.fail(c.token, c.fault);
      break;
    case 'calls':
      return fake.calls(c.token);
  }
  return { ok: true };
}

/** In the platform process (or in-process for a test): both fakes and the control server, listening. */
export async function servePlatform(o: PlatformOptions): Promise<RunningPlatform> {
  const telegram = await new FakeTelegram().start(o.telegramPort);
  const discord = await new FakeDiscord().start(o.discordPort);
  const platformOf = new Map<string, Platform>();
  for (const b of o.bots) {
    for (const [i, t] of b.tokens.entries()) {
      (b.platform === 'discord' ? discord : telegram).addToken(t, { username: `${b.name}_${i}_bot` });
      platformOf.set(t, b.platform);
    }
  }
  // A chat the rehearsal's bot worker posts to.
  telegram.method('sendMessage', ({ params, bot }) => ({ ok: true, result: { message_id: Date.now() % 1_000_000, chat: { id: Number(params.chat_id) || 0, type: 'group' }, from: { id: Number(bot.id), is_bot: true, first_name: bot.username }, date: Math.floor(Date.now() / 1000), text: String(params.text ?? '') } }));
  const control = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      let status = 200;
      let body: unknown;
      try {
        if (req.method !== 'POST' || req.url !== '/control') throw new OperationError('control: POST /control only');
        body = applyControl({ telegram, discord }, JSON.parse(Buffer.concat(chunks).toString('utf8')) as ControlOp, (t) => platformOf.get(t));
      } catch (err) {
        status = 400;
        body = { error: err instanceof Error ? err.message : String(err) };
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(o.controlPort, '127.0.0.1', () => resolve());
  });
  return {
    telegram,
    discord,
    async close() {
      await new Promise<void>((resolve) => {
        control.close(() => resolve());
        control.closeAllConnections();
      });
      await telegram.stop();
      await discord.stop();
    },
  };
}

/** The control client of a running platform process. */
export class PlatformControl {
  constructor(private readonly port: number) {}

  private async send(c: ControlOp): Promise<unknown> {
    const res = await fetch(`http://127.0.0.1:${this.port}/control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(c), signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as unknown;
    if (!res.ok) throw new OperationError(`platform control ${c.op}: ${(body as { error?: string }).error ?? res.status}`);
    return body;
  }

  revoke(token: string): Promise<unknown> {
    return this.send({ op: 'revoke', token });
  }
  restore(token: string): Promise<unknown> {
    return this.send({ op: 'restore', token });
  }
  outage(platform: Platform, fault: FakeFault | boolean): Promise<unknown> {
    return this.send({ op: 'outage', platform, fault });
  }
  rateLimit(token: string, seconds: number): Promise<unknown> {
    return this.send({ op: 'rateLimit', token, seconds });
  }
  async calls(token: string): Promise<Record<string, number>> {
    return (await this.send({ op: 'calls', token })) as Record<string, number>;
  }
}

/**
 * Start the platform process detached (it outlives this one; output appended to `log`), resolving with its pid once
 * its control port answers. `env`: where PATH comes from.
 */
export async function startPlatform(o: PlatformOptions, opts: { log: string; env?: Record<string, string | undefined> }): Promise<number> {
  const script = `
    require('ts-node').register({ transpileOnly: true, swc: true, project: ${JSON.stringify(path.join(ROOT, 'tsconfig.json'))} });
    const { servePlatform } = require(${JSON.stringify(path.join(__dirname, 'platform-server.ts'))});
    servePlatform(JSON.parse(process.env.DR_PLATFORM_OPTS)).then((p) => {
      console.log('${READY_LINE}');
      process.on('SIGTERM', () => p.close().then(() => process.exit(0)));
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
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new OperationError(`the fake bot platforms exited during start; see ${opts.log}`);
    try {
      const res = await fetch(`http://127.0.0.1:${o.controlPort}/control`, { method: 'POST', body: JSON.stringify({ op: 'resetCalls' }), signal: AbortSignal.timeout(1000) });
      if (res.ok) return pid;
    } catch {
      /* not listening yet */
    }
    await sleep(50);
  }
  throw new OperationError(`the fake bot platforms did not listen within 30 s; see ${opts.log}`);
}
