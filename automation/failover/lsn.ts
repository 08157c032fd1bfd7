/**
 * PostgreSQL WAL positions (`pg_lsn`, printed as `X/Y` in hex). Pure helpers shared by the engine, the adapters
 * and the fakes.
 */
import { OperationError } from '../core/errors';

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** Parse `X/Y` into a byte position. Throws on anything else. */
export function parseLsn(lsn: string): bigint {
  const m = LSN.exec(lsn.trim());
  if (!m) throw new OperationError(`not a WAL position (expected X/Y in hex): '${lsn}'`);
  return (BigInt('0x' + m[1]) << 32n) + BigInt('0x' + m[2]);
}

/** Format a byte position as `X/Y` (upper-case hex, like PostgreSQL). */
export function formatLsn(pos: bigint): string {
  return `${(pos >> 32n).toString(16).toUpperCase()}/${(pos & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** -1, 0 or 1 like a comparator. */
export function compareLsn(a: string, b: string): number {
  const x = parseLsn(a);
  const y = parseLsn(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Bytes between two positions (`a − b`), never negative. */
export function lsnDiffBytes(a: string, b: string): number {
  const d = parseLsn(a) - parseLsn(b);
  return d > 0n ? Number(d) : 0;
}
