/**
 * What the fake Telegram and Discord servers share: a real HTTP server on 127.0.0.1 (ephemeral port), a registry of
 * tokens with their state (known, revoked, rate-limited, failing), platform-wide outages, and per-token call counts.
 * The platform specifics (paths, envelopes, error bodies: {@link FakePlatformServer.answer}) live in `fake-telegram.ts` / `fake-discord.ts`.
 *
 * Controlled in-process through typed methods, never over their own HTTP port, so a test or the rehearsal cannot be
 * confused with a client: `addToken`, `revoke`, `restore`, `rateLimit`, `clearRateLimit`, `fail`, `heal`, `outage`;
 * read back with `calls`, `callCount`. Other processes steer them through `platform-server.ts`, whose control API
 * is a separate listener. Faults:
 * - `{ status }`: answer that HTTP status with the platform's error body (`body: 'html'` for a proxy's HTML page);
 * - `'hang'`: accept the request and never answer (the client's timeout fires; `stop()` closes the socket);
 * - `'reset'`: destroy the connection without an answer.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fault to inject (see the module comment). */
export type FakeFault = { status: number; body?: 'json' | 'html' } | 'hang' | 'reset';

/** The state of one token in a fake platform. */
export interface FakeTokenState {
  /** The bot's user id (a number for Telegram, a snowflake string for Discord). */
  id: string;
  username: string;
  revoked: boolean;
  /** Epoch ms until which the token gets 429. */
  rateLimitedUntil?: number;
  /** Discord: whether the 429 is global. */
  rateLimitGlobal?: boolean;
  fault?: FakeFault;
}

/** Options of a fake platform server. */
export interface FakePlatformOptions {
  /** Time source for rate limits (default `Date.now`). */
  now?: () => number;
}

/** One answer of a fake route. */
export interface FakeReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Send `body` as this content type instead of JSON (e.g. an HTML error page). */
  contentType?: string;
}

/** A parsed request handed to a platform's router. */
export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON or form body, `{}` when empty. */
  body: Record<string, unknown>;
  /** Aborted when the client goes away before it is answered (a long poll's client hung up, `stop()`). */
  signal: AbortSignal;
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (contentType?.includes('application/json')) {
    try {
      const v: unknown = JSON.parse(raw);
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

/** The shared core of the fake platforms. Subclasses implement {@link answer}. */
export abstract class FakePlatformServer {
  private server?: http.Server;
  private origin = '';
  protected readonly tokens = new Map<string, FakeTokenState>();
  private readonly counts = new Map<string, Map<string, number>>();
  private platformFault?: FakeFault;
  protected readonly now: () => number;

  constructor(opts: FakePlatformOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  /** `http://127.0.0.1:<port>` once started. */
  get url(): string {
    if (!this.origin) throw new Error('fake platform server is not started');
    return this.origin;
  }

  /** Listen on 127.0.0.1, on `port` (default: an ephemeral one). */
  async start(listenPort = 0): Promise<this> {
    if (this.server) return this;
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.onStart();
    this.server = server;
    this.origin = `http://127.0.0.1:${port}`;
    return this;
  }

  /** Close the server and every connection (kept-alive and hanging ones too). Safe to call twice. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.onStop();
    this.server = undefined;
    this.origin = '';
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Whether `token` was added to this platform (revoked or not). */
  knows(token: string): boolean {
    return this.tokens.has(token);
  }

  /** Make `token` a valid token of a bot (`id`, `username` default from the token's position). */
  addToken(token: string, bot: { id?: string; username?: string } = {}): this {
    const n = this.tokens.size + 1;
    this.tokens.set(token, { id: bot.id ?? this.defaultId(n), username: bot.username ?? `fake_bot_${n}`, revoked: false });
    return this;
  }

  /** The token now gets 401 (as if regenerated in BotFather / the developer portal). */
  revoke(token: string): this {
    this.state(token).revoked = true;
    return this;
  }

  /** Undo {@link revoke}. */
  restore(token: string): this {
    this.state(token).revoked = false;
    return this;
  }

  /** Answer 429 for `token` for the next `seconds` (Discord: `global` sets the global flag and header). */
  rateLimit(token: string, seconds: number, opts: { global?: boolean } = {}): this {
    const s = this.state(token);
    s.rateLimitedUntil = this.now() + seconds * 1000;
    s.rateLimitGlobal = opts.global ?? false;
    return this;
  }

  /** Undo {@link rateLimit}. */
  clearRateLimit(token: string): this {
    delete this.state(token).rateLimitedUntil;
    return this;
  }

  /** Inject a fault for one token (a 5xx, a hang, a reset). */
  fail(token: string, fault: FakeFault): this {
    this.state(token).fault = fault;
    return this;
  }

  /** Undo {@link fail}. */
  heal(token: string): this {
    delete this.state(token).fault;
    return this;
  }

  /** Platform-wide outage: every request gets the fault (`true` = 502 with a proxy's HTML page); `false` ends it. */
  outage(fault: FakeFault | boolean): this {
    this.platformFault = fault === true ? { status: 502, body: 'html' } : fault === false ? undefined : fault;
    return this;
  }

  /** Calls per route name (`getMe`, `GET /users/@me`, …) made with `token` (revoked and unknown tokens count too). */
  calls(token: string): Record<string, number> {
    return Object.fromEntries(this.counts.get(token) ?? []);
  }

  /** Total calls made with `token`, or to one route name. */
  callCount(token: string, route?: string): number {
    const m = this.counts.get(token);
    if (!m) return 0;
    return route === undefined ? [...m.values()].reduce((a, b) => a + b, 0) : (m.get(route) ?? 0);
  }

  /** Forget every call count. */
  resetCalls(): this {
    this.counts.clear();
    return this;
  }

  protected state(token: string): FakeTokenState {
    const s = this.tokens.get(token);
    if (!s) throw new Error('fake platform: unknown token (addToken it first)');
    return s;
  }

  /** Count a call with `token` to `route`. */
  protected count(token: string, route: string): void {
    const m = this.counts.get(token) ?? new Map<string, number>();
    m.set(route, (m.get(route) ?? 0) + 1);
    this.counts.set(token, m);
  }

  /** The platform-wide fault, else this token's fault. */
  protected faultFor(token: string | undefined): FakeFault | undefined {
    return this.platformFault ?? (token !== undefined ? this.tokens.get(token)?.fault : undefined);
  }

  /** Seconds of rate limit left for `token` (0 when not limited). */
  protected rateLimitLeft(token: string): number {
    const until = this.tokens.get(token)?.rateLimitedUntil;
    return until === undefined ? 0 : Math.max(0, (until - this.now()) / 1000);
  }

  /** A bot user id for the n-th token. */
  protected abstract defaultId(n: number): string;

  /** Answer one request: a reply, or `'hang'` / `'reset'` (no answer); a long poll answers later (a promise). */
  protected abstract answer(req: FakeRequest): FakeReply | 'hang' | 'reset' | Promise<FakeReply | 'hang' | 'reset'>;

  /** Called by {@link start} once listening (a restarted fake resumes its deliveries). */
  protected onStart(): void {
    // Nothing by default.
  }

  /** Called by {@link stop} before the server closes: a platform stops its timers and outgoing requests here. */
  protected onStop(): void {
    // Nothing by default.
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const parsed: FakeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: parseBody(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']),
      signal: gone.signal,
    };
    let reply: FakeReply | 'hang' | 'reset';
    try {
      reply = await this.answer(parsed);
    } catch (err) {
      reply = { status: 500, body: { error: `fake platform bug: ${(err as Error).message}` } };
    }
    if (reply === 'hang' || res.destroyed) return;
    if (reply === 'reset') {
      req.socket.destroy();
      return;
    }
    res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json', ...reply.headers });
    res.end(reply.contentType ? String(reply.body) : JSON.stringify(reply.body));
  }
}
