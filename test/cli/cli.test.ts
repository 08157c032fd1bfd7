import * as assert from 'node:assert/strict';
import { parseFlags, Flags } from '../../automation/cli/args';
import { exitCodeFor, OperationError, RefusedError, UsageError } from '../../automation/core/errors';
import { redact, redactValue, registerSecret } from '../../automation/core/redact';
import { dr } from '../helpers/cli';

describe('cli: flags, errors, redaction', () => {
  const specs = {
    bucket: { type: 'string' as const, description: 'bucket', env: 'DR_BACKUP_BUCKET' },
    tier: { type: 'string' as const, description: 'tier', choices: ['daily', 'weekly', 'monthly'], default: 'daily' },
    jobs: { type: 'number' as const, description: 'jobs' },
    force: { type: 'boolean' as const, description: 'force' },
  };

  it('parses values, env fallbacks and defaults', () => {
    const f = new Flags(parseFlags(['--jobs', '4', '--force'], specs, { DR_BACKUP_BUCKET: 'b1' }));
    assert.equal(f.string('bucket'), 'b1');
    assert.equal(f.string('tier'), 'daily');
    assert.equal(f.number('jobs'), 4);
    assert.equal(f.bool('force'), true);
    assert.equal(new Flags(parseFlags(['--bucket=b2'], specs, { DR_BACKUP_BUCKET: 'b1' })).string('bucket'), 'b2');
  });

  it('rejects unknown flags, bad choices and bad numbers with a usage error that says what is allowed', () => {
    assert.throws(() => parseFlags(['--nope'], specs, {}), (e: unknown) => e instanceof UsageError && /--nope.*allowed: --bucket/.test(e.message));
    assert.throws(() => parseFlags(['--tier', 'hourly'], specs, {}), /--tier must be one of daily\|weekly\|monthly, got 'hourly'/);
    assert.throws(() => parseFlags(['--jobs', 'x'], specs, {}), /--jobs must be a number/);
    assert.throws(() => parseFlags(['--bucket'], specs, {}), /--bucket needs a value/);
    assert.throws(() => new Flags({}).required('bucket'), /--bucket is required/);
  });

  it('maps the error family to exit codes in one place', () => {
    assert.equal(exitCodeFor(new UsageError('x')), 2);
    assert.equal(exitCodeFor(new RefusedError('x')), 2);
    assert.equal(exitCodeFor(new OperationError('x')), 1);
    assert.equal(exitCodeFor(new Error('x')), 1);
  });

  it('redacts URL passwords, key=value secrets and registered values', () => {
    assert.equal(redact('postgres://bot:s3cr3t@db:5432/app'), 'postgres://bot:***@db:5432/app');
    assert.equal(redact('redis://:authpass@127.0.0.1:6379'), 'redis://:***@127.0.0.1:6379');
    assert.equal(redact('password=hunter22 host=x'), 'password=*** host=x');
    registerSecret('123456:ABCDEF-bot-token');
    assert.deepEqual(redactValue({ a: ['token 123456:ABCDEF-bot-token here'] }), { a: ['token *** here'] });
  });

  it('exits 2 on an unknown command and 0 on help', async () => {
    const bad = await dr(['no-such-command']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command/);
    const help = await dr(['help', '--json']);
    assert.equal(help.code, 0);
    assert.ok(Array.isArray(help.json().commands));
  });
});
