/**
 * COPY between two PostgreSQL connections over the `pg` driver, without a helper package: `COPY (…) TO STDOUT` on
 * one client streamed chunk by chunk into `COPY … FROM STDIN` on another (text format, so the two sides only need
 * compatible column types). The two halves are "submittables" — objects with `submit(connection)` and the
 * `handle…` callbacks the driver calls for the active query — which is the extension point `pg` documents for
 * cursors and streams. Back-pressure: the source connection's socket is paused while the target's is draining.
 */
import type { Client } from 'pg';

/** The slice of pg's internal Connection a submittable uses. */
interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.ReadableStream & NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

type Callback = (err: Error | null, rows?: number) => void;

/** Rows reported by a `COPY n` command tag. */
function rowsOf(msg: { text?: string }): number {
  const m = /^COPY (\d+)/.exec(msg.text ?? '');
  return m ? Number(m[1]) : 0;
}

/** Common no-op handlers: COPY produces none of these messages. */
abstract class CopySubmittable {
  callback?: Callback;
  protected rows = 0;
  protected failed = false;
  constructor(readonly text: string) {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}
  handleCommandComplete(msg: { text?: string }): void {
    this.rows = rowsOf(msg);
  }
  handleReadyForQuery(): void {
    if (!this.failed) this.callback?.(null, this.rows);
  }
  handleError(err: Error): void {
    this.failed = true;
    this.callback?.(err);
  }
  submit(connection: PgConnection): void {
    connection.query(this.text);
  }
}

/** `COPY … TO STDOUT`: every data chunk goes to `sink`; resolves with the rows copied. */
class CopyOut extends CopySubmittable {
  private connection?: PgConnection;
  constructor(text: string, private readonly sink: (chunk: Buffer, source: PgConnection) => void) {
    super(text);
  }
  override submit(connection: PgConnection): void {
    this.connection = connection;
    connection.query(this.text);
  }
  handleCopyInResponse(connection: PgConnection): void {
    connection.sendCopyFail('a COPY TO query asked for data');
  }
  handleCopyData(msg: { chunk: Buffer }): void {
    // The chunk is a view of the driver's read buffer, which the next socket read overwrites: copy it.
    if (this.connection) this.sink(Buffer.from(msg.chunk), this.connection);
  }
}

/** Bytes gathered before one CopyData message is sent (the server sends one message per row). */
const BATCH_BYTES = 256 * 1024;

/**
 * `COPY … FROM STDIN`: takes chunks pushed with {@link CopyIn.push} once the server is ready for them, gathered into
 * messages of about {@link BATCH_BYTES} (one socket write per row would cost more than the copy itself).
 */
class CopyIn extends CopySubmittable {
  private connection?: PgConnection;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;
  private failMessage?: string;
  handleCopyInResponse(connection: PgConnection): void {
    this.connection = connection;
    if (this.failMessage !== undefined) return connection.sendCopyFail(this.failMessage);
    if (this.ended || this.pendingBytes >= BATCH_BYTES) this.flush();
    if (this.ended) connection.endCopyFrom();
  }
  handleCopyData(): void {}
  private flush(): void {
    if (!this.connection || !this.pending.length) return;
    this.connection.sendCopyFromChunk(this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }
  /** Queue a chunk (sent in batches once the server asked for data). Returns the target socket, for back-pressure. */
  push(chunk: Buffer): PgConnection['stream'] | undefined {
    // After the target failed, the server drops CopyData anyway: stop sending.
    if (this.failed || this.failMessage !== undefined) return undefined;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BATCH_BYTES) this.flush();
    return this.connection?.stream;
  }
  end(): void {
    this.ended = true;
    if (this.connection && this.failMessage === undefined) {
      this.flush();
      this.connection.endCopyFrom();
    }
  }
  fail(message: string): void {
    if (this.failMessage !== undefined || this.ended) return;
    this.failMessage = message;
    this.pending = [];
    if (this.connection) this.connection.sendCopyFail(message);
  }
}

function run(client: Client, q: CopySubmittable): Promise<number> {
  return new Promise((resolve, reject) => {
    q.callback = (err, rows) => (err ? reject(err) : resolve(rows ?? 0));
    (client as unknown as { query(q: unknown): void }).query(q);
  });
}

/**
 * Stream `COPY (<select>) TO STDOUT` on `source` into `COPY <target> FROM STDIN` on `target`. Resolves with the rows
 * the target took; rejects (and makes the target's COPY fail, so nothing is half-loaded) when either side fails.
 */
export async function pipeCopy(source: Client, outSql: string, target: Client, inSql: string, signal?: AbortSignal): Promise<number> {
  const into = new CopyIn(inSql);
  const loading = run(target, into);
  loading.catch(() => undefined);
  let waiting = false;
  const out = new CopyOut(outSql, (chunk, src) => {
    const sock = into.push(chunk);
    // Back-pressure: stop reading the source while the target's socket is full (one wait at a time: chunks the
    // driver had already read keep arriving after the pause).
    if (sock?.writableNeedDrain && !waiting) {
      waiting = true;
      src.stream.pause();
      sock.once('drain', () => {
        waiting = false;
        src.stream.resume();
      });
    }
  });
  const abort = () => into.fail('interrupted');
  signal?.addEventListener('abort', abort, { once: true });
  try {
    try {
      await run(source, out);
    } catch (err) {
      into.fail(`the source COPY failed: ${err instanceof Error ? err.message : String(err)}`);
      await loading.catch(() => undefined);
      throw err;
    }
    if (signal?.aborted) throw new Error('interrupted');
    into.end();
    return await loading;
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}
