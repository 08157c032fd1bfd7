import { runCli } from '../../automation/cli/run';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws if it is not one JSON document). */
  json<T = any>(): T;
}

/** Run `dr` in-process with captured output, a given env, and no terminal. */
export async function dr(argv: string[], env: Record<string, string | undefined> = {}, opts: { confirm?: boolean; cwd?: string } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env,
    cwd: opts.cwd ?? process.cwd(),
    io: {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      isTTY: false,
      confirm: async () => opts.confirm ?? false,
    },
  });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}
