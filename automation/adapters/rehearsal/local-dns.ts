/**
 * DnsPort over a JSON record file, the local stand-in for the Route 53 failover records:
 * `{ "records": { "platform": "a", "database": "a", "cache": "a" }, "serial": 3, "updated_at": "…" }`.
 * Every change is an atomic write-rename, so a reader (the traffic simulator resolving on every reconnect)
 * sees the old or the new file, never half of one.
 */
import * as fs from 'node:fs';
import type { DnsPort } from '../../failover/index';
import { replaceFileSync } from '../tools/atomic-file';

export interface DnsFile {
  records: Record<string, string>;
  serial: number;
  updated_at: string;
}

export function readDnsFile(file: string): DnsFile {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as DnsFile;
}

export function writeDnsFile(file: string, records: Record<string, string>, serial: number): void {
  const body: DnsFile = { records, serial, updated_at: new Date().toISOString() };
  replaceFileSync(file, JSON.stringify(body, null, 2) + '\n', 0o644);
}

export class LocalDns implements DnsPort {
  constructor(private readonly file: string) {}

  async current(record: string): Promise<string | undefined> {
    return readDnsFile(this.file).records[record];
  }

  async point(record: string, region: string): Promise<void> {
    const cur = readDnsFile(this.file);
    writeDnsFile(this.file, { ...cur.records, [record]: region }, cur.serial + 1);
  }
}
