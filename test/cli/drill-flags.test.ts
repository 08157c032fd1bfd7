import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dr } from '../helpers/cli';

/** `dr drill --local` rejects bad flags with exit 2 before it starts anything (no environment directory appears). */
describe('cli: dr drill --local flag validation', () => {
  let cwd: string;
  beforeEach(() => (cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-drill-flags-'))));
  afterEach(() => fs.rmSync(cwd, { recursive: true, force: true }));

  const cases: Array<[string[], RegExp]> = [
    [['--scenario', 'meteor'], /--scenario must be one of datacenter\|database\|cache\|planned/],
    [['--load-tps', '0'], /--load-tps must be between 1 and 1000/],
    [['--duration', '0'], /--duration must be between 1 and 3600/],
    [['--replication-delay-ms', '0'], /--replication-delay-ms must be between 1 and 600000/],
    [['--scenario', 'planned', '--replication-delay-ms', '500'], /applies to the datacenter and database scenarios/],
    [['--replication-hold', 'replay'], /--replication-hold needs --replication-delay-ms/],
    [['--replication-delay-ms', '500', '--replication-hold', 'pause'], /--replication-hold must be one of sender\|replay/],
    [['--scenario', 'token', '--failback'], /--failback follows a failover; the 'token' scenario moves no region/],
  ];
  for (const [flags, message] of cases) {
    it(`exits 2 for ${flags.join(' ')}`, async () => {
      const r = await dr(['drill', '--local', '--dir', path.join(cwd, 'env'), '--reports-dir', path.join(cwd, 'reports'), ...flags], {}, { cwd });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(fs.existsSync(path.join(cwd, 'env')), false, 'nothing was started');
      assert.equal(fs.existsSync(path.join(cwd, 'reports')), false, 'no report was written');
    });
  }
});
