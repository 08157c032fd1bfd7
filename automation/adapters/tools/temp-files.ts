/**
 * {@link TempFiles} on the local file system: a private (0700) directory under the OS temp dir, or under `base`
 * (the rehearsal keeps them inside its environment directory), files created 0600, removed recursively.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TempDir, TempFiles } from '../../backup/index';

export function localTempFiles(base?: string): TempFiles {
  return {
    async dir(prefix: string): Promise<TempDir> {
      const dir = mkdtempSync(path.join(base ?? os.tmpdir(), prefix));
      return {
        path: (name) => path.join(dir, name),
        writer: (name) => createWriteStream(path.join(dir, name), { mode: 0o600 }),
        remove: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  };
}
