/**
 * Replacing a file so that a reader sees the old content or the new, never half of it, and a crash leaves one of
 * the two: a temp file in the same directory (created with the final mode), fsync, rename over the target, fsync
 * of the directory. Used by the file journal, the token file store and the rehearsal's state files.
 */
import { randomBytes } from 'node:crypto';
import * as fsSync from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** fsync a directory, so a rename in it is durable (some filesystems refuse; the rename is still atomic there). */
export async function syncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close();
  }
}

/** Replace `file` with `text` atomically and durably; the file gets `mode` whatever the umask. */
export async function replaceFile(file: string, text: string, mode: number): Promise<void> {
  const tmp = tempName(file);
  const fh = await fs.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.chmod(tmp, mode);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(path.dirname(file));
}

/** The synchronous form of {@link replaceFile} (for small state files written between steps). */
export function replaceFileSync(file: string, text: string, mode: number): void {
  const tmp = tempName(file);
  const fd = fsSync.openSync(tmp, 'wx', mode);
  try {
    fsSync.writeSync(fd, text);
    fsSync.fsyncSync(fd);
  } finally {
    fsSync.closeSync(fd);
  }
  try {
    fsSync.chmodSync(tmp, mode);
    fsSync.renameSync(tmp, file);
  } catch (err) {
    fsSync.rmSync(tmp, { force: true });
    throw err;
  }
}
