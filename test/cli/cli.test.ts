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

  it('keeps the hand-written parser\'s messages on the util.parseArgs tokenizer', () => {
    const multi = { ...specs, table: { type: 'string' as const, description: 'table', multiple: true } };
    assert.throws(() => parseFlags(['stray'], specs, {}), (e: unknown) => e instanceof UsageError && e.message === "unexpected argument 'stray'");
    assert.throws(() => parseFlags(['-f'], specs, {}), (e: unknown) => e instanceof UsageError && e.message === "unexpected argument '-f'");
    assert.throws(() => parseFlags(['--bucket', '--force'], specs, {}), (e: unknown) => e instanceof UsageError && e.message === '--bucket needs a value');
    assert.throws(() => parseFlags(['--force=maybe'], specs, {}), (e: unknown) => e instanceof UsageError && e.message === "--force takes no value (or true|false), got 'maybe'");
    assert.throws(() => parseFlags(['--jobs', '4', '--'], specs, {}), (e: unknown) => e instanceof UsageError && /^unknown flag --; allowed: --bucket, --tier, --jobs, --force$/.test(e.message));
    assert.equal(parseFlags(['--force=false'], specs, {}).force, false);
    assert.equal(parseFlags(['--force=true'], specs, {}).force, true);
    assert.equal(parseFlags(['--jobs=-3'], specs, {}).jobs, -3);
    assert.equal(parseFlags(['--bucket', '-dash-'], specs, {}).bucket, '-dash-');
    assert.deepEqual(parseFlags(['--table', 'a.b', '--table=c.d'], multi, {}).table, ['a.b', 'c.d']);
    assert.throws(() => parseFlags([], { jobs: { ...specs.jobs, env: 'DR_JOBS' } }, { DR_JOBS: 'many' }), (e: unknown) => e instanceof UsageError && e.message === "DR_JOBS (for --jobs) must be a number, got 'many'");
  });

  it('positional arguments a command declares: in order, extra ones and missing ones are usage errors', () => {
    const args = [
      { name: 'bot', description: 'the bot' },
      { name: 'index', description: 'token index' },
      { name: 'note', description: 'a note', optional: true },
    ];
    const f = new Flags(parseFlags(['community', '--force', '2', '--bucket', 'b'], specs, {}, args));
    assert.deepEqual([f.arg('bot'), f.arg('index'), f.arg('note'), f.bool('force'), f.string('bucket')], ['community', '2', undefined, true, 'b']);
    assert.equal(new Flags(parseFlags(['a', '1', 'n'], specs, {}, args)).arg('note'), 'n');
    assert.throws(() => parseFlags(['a', '1', 'n', 'stray'], specs, {}, args), (e: unknown) => e instanceof UsageError && e.message === "unexpected argument 'stray'");
    assert.throws(() => parseFlags(['a'], specs, {}, args), (e: unknown) => e instanceof UsageError && e.message === 'missing INDEX (arguments: BOT INDEX [NOTE])');
    assert.throws(() => parseFlags(['--force'], specs, {}, args), (e: unknown) => e instanceof UsageError && e.message === 'missing BOT and INDEX (arguments: BOT INDEX [NOTE])');
    assert.throws(() => parseFlags(['a', '-1'], specs, {}, args), (e: unknown) => e instanceof UsageError && e.message === "unexpected argument '-1'");
    assert.throws(() => parseFlags([], specs, {}, [{ name: 'bucket', description: 'x' }]), /declared both as a flag and as an argument/);
    assert.equal(parseFlags(['--bucket', 'community'], specs, {}, args.slice(2)).bucket, 'community', 'a flag value is not a positional');
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
