/**
 * A separate process for the file store's cross-process compare-and-set test: waits until a start file exists (so
 * every writer is up before any writes), then writes `active = <index>` for `<bot>` expecting `<version>`, and
 * prints the outcome as one JSON line. Usage (through ts-node):
 *   token-file-writer.ts <file> <bot> <expectVersion> <requestId> <index> <startFile>
 */
import { existsSync } from 'node:fs';
import { TokenFileStore } from '../../automation/adapters/tools/token-file-store';

async function main(): Promise<void> {
  const [file, bot, expectVersion, requestId, index, startFile] = process.argv.slice(2);
  const store = new TokenFileStore({ file, lockTimeoutMs: 30_000 });
  const { record } = await store.read(bot);
  process.stdout.write('ready\n');
  while (!existsSync(startFile)) await new Promise((r) => setTimeout(r, 5));
  const outcome = await store.write(bot, { ...record, active: Number(index) }, { expectVersion, requestId });
  process.stdout.write(JSON.stringify(outcome) + '\n');
}

main().catch((err: unknown) => {
  process.stdout.write(JSON.stringify({ error: String(err) }) + '\n');
  process.exitCode = 1;
});
