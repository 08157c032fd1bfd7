/**
 * The `dr` entry file: the only module that touches `process` (argv, env, exit code, signals, TTY, warnings).
 */
import * as readline from 'node:readline';
import { InterruptedError } from './core/errors';
import { runCli } from './cli/run';

// The AWS SDK warns in 8 lines on every run under Node 20 (end of life since April 2026). Say it once, in one
// line, with what to do; every other warning is printed as Node prints it.
process.removeAllListeners('warning');
let sdkWarned = false;
process.on('warning', (w: Error) => {
  if (w.name === 'NodeVersionSupportWarning' || w.message.includes('NodeVersionSupportWarning')) {
    if (!sdkWarned) process.stderr.write(`note: Node ${process.versions.node} is end of life; the AWS SDK needs Node 22 or later from January 2027: install Node 22 LTS (README, "Node versions")\n`);
    sdkWarned = true;
    return;
  }
  process.stderr.write(`(node:${process.pid}) ${w.name}: ${w.message}\n`);
});

const controller = new AbortController();
/** What to run to clean up when a second signal forces the exit (set by commands that start processes). */
let cleanupHint: string | undefined;
let interrupted = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupted++;
    if (interrupted > 1) {
      process.stderr.write(`\ndr: forced to stop${cleanupHint ? `; processes it started may still run: ${cleanupHint}` : ''}\n`);
      process.exit(130);
    }
    process.stderr.write(`\ndr: ${sig} received, stopping cleanly (again to force)\n`);
    controller.abort(new InterruptedError(`interrupted by ${sig}`));
  });
}

function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return Promise.resolve(false);
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => {
    rl.question(`${question} [y/N] `, (answer) => {
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}

runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
  onCleanupHint: (hint) => {
    cleanupHint = hint;
  },
  io: {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    isTTY: Boolean(process.stdout.isTTY),
    confirm,
  },
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`dr: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
