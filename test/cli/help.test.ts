/** `dr help` lists every registered command; the four shared commands document their AWS flags and the local ones. */
import assert from 'node:assert/strict';
import { COMMANDS } from '../../automation/cli/registry';
import { dr } from '../helpers/cli';

describe('dr help: every command, and the AWS flags of failover/status/drill/failback', () => {
  it('dr help lists every registered command with its summary', async () => {
    const r = await dr(['help']);
    assert.equal(r.code, 0);
    for (const name of Object.keys(COMMANDS)) assert.match(r.stdout, new RegExp(`^  dr ${name.replace(/ /g, ' ')}\\s+\\S`, 'm'), name);
    const j = await dr(['help', '--json']);
    assert.deepEqual(j.json().commands, Object.keys(COMMANDS));
  });

  const expected: Record<string, string[]> = {
    failover: ['--local', '--planned', '--unplanned', '--incident datacenter|database|cache', '--dry-run', '--yes', '--json', '--primary-stack VALUE', '--secondary-stack VALUE', '--work-dir VALUE', '--outputs-dir VALUE', '--resume', '--journal-dir VALUE', '--from VALUE', '--primary-db-url VALUE'],
    status: ['--local', '--json', '--primary-stack VALUE', '--secondary-stack VALUE', '--work-dir VALUE', '--outputs-dir VALUE', '--refresh'],
    drill: ['--local', '--stack scratch', '--restore-point VALUE', '--reports-dir VALUE', '--source-stack VALUE', '--primary-stack VALUE', '--work-dir VALUE', '--scenario'],
    failback: ['--local', '--yes', '--home-region VALUE', '--max-lag N', '--primary-stack VALUE', '--work-dir VALUE', '--primary-db-url VALUE'],
  };
  for (const [name, flags] of Object.entries(expected)) {
    it(`dr ${name} --help documents its AWS and local flags (with env fallbacks)`, async () => {
      const r = await dr([name, '--help']);
      assert.equal(r.code, 0);
      for (const f of flags) assert.ok(r.stdout.includes(`  ${f}`), `${name} --help lacks ${f}:\n${r.stdout}`);
      if (name !== 'drill') assert.match(r.stdout, /--primary-stack VALUE .*\[env DR_PRIMARY_STACK\]/);
      assert.match(r.stdout, /AWS: /);
    });
  }

  it('the AWS mode is the default: without --local these commands no longer say "not there yet"', async () => {
    for (const argv of [['failover', '--yes'], ['status'], ['failback', '--yes'], ['drill', '--stack', 'scratch']]) {
      const r = await dr([...argv, '--work-dir', '/nonexistent-dr-project']);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, /--work-dir \/nonexistent-dr-project is not a Pulumi project/, argv.join(' '));
    }
  });
});
