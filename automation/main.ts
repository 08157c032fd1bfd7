/**
 * The `dr` entry file: the only module that touches `process` (argv, env, exit code, signals, TTY).
 */
import * as readline from 'node:readline';
import { runCli } from './cli/run';

const controller = new AbortController();
let interrupted = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupted++;
    if (interrupted > 1) process.exit(130);
    process.stderr.write(`\ndr: ${sig} received, stopping cleanly (again to force)\n`);
    controller.abort(new Error(`interrupted by ${sig}`));
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
