/**
 * A Discord interactions endpoint on 127.0.0.1 for tests: it checks `X-Signature-Ed25519` over
 * `X-Signature-Timestamp + body` with the application's public key (hex, from `GET /applications/@me`), answers a
 * valid PING with `{ type: 1 }` and anything badly signed with 401, as Discord requires. `mode` breaks it on purpose.
 */
import { createPublicKey, verify } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export class InteractionsEndpoint {
  /** `verify`: the real thing; `accept-all`: never refuses a bad signature; `down`: 503 to everything. */
  mode: 'verify' | 'accept-all' | 'down' = 'verify';
  readonly seen: Array<{ valid: boolean; status: number }> = [];
  url = '';
  private server?: http.Server;

  constructor(public publicKeyHex = '') {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const sig = String(req.headers['x-signature-ed25519'] ?? '');
        const ts = String(req.headers['x-signature-timestamp'] ?? '');
        let valid = false;
        try {
          const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, Buffer.from(this.publicKeyHex, 'hex')]), format: 'der', type: 'spki' });
          valid = verify(null, Buffer.from(ts + body), key, Buffer.from(sig, 'hex'));
        } catch {
          valid = false;
        }
        const status = this.mode === 'down' ? 503 : valid || this.mode === 'accept-all' ? 200 : 401;
        this.seen.push({ valid, status });
        res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? JSON.stringify({ type: 1 }) : 'invalid request signature');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/discord/interactions`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    });
  }
}
