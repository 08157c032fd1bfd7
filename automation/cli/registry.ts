import { Command } from './command';

/**
 * Every `dr` command, loaded lazily so `dr help` and small commands start fast.
 * To add a command: create `commands/<file>.ts` exporting `command: Command`, then add ONE line here.
 */
export const COMMANDS: Record<string, () => Promise<Command>> = {
  // --- backups (issue 3) ---
  'backup postgres': async () => (await import('./commands/backup-postgres')).command,
  'backup redis': async () => (await import('./commands/backup-redis')).command,
  'backups list': async () => (await import('./commands/backups-list')).command,
  'backups check': async () => (await import('./commands/backups-check')).command,
  'backups verify-restore': async () => (await import('./commands/backups-verify-restore')).command,
  'restore postgres': async () => (await import('./commands/restore-postgres')).command,
  'restore redis': async () => (await import('./commands/restore-redis')).command,
  verify: async () => (await import('./commands/verify')).command,
  // --- failover, local rehearsal (issue 4) ---
  'local up': async () => (await import('./commands/local')).upCommand,
  'local down': async () => (await import('./commands/local')).downCommand,
  'local status': async () => (await import('./commands/local')).statusCommand,
  status: async () => (await import('./commands/status')).command,
  failover: async () => (await import('./commands/failover')).command,
  failback: async () => (await import('./commands/failback')).command,
  watch: async () => (await import('./commands/watch')).command,
  drill: async () => (await import('./commands/drill')).command,
  // --- AWS (issue 5) ---
  deploy: async () => (await import('./commands/deploy')).command,
  'backup config': async () => (await import('./commands/config-backup')).command,
  'restore config': async () => (await import('./commands/config-restore')).command,
  // --- bot tokens (issue 10) ---
  'tokens status': async () => (await import('./commands/tokens')).statusCommand,
  'tokens check': async () => (await import('./commands/tokens')).checkCommand,
  'tokens use': async () => (await import('./commands/tokens')).useCommand,
  'tokens unpin': async () => (await import('./commands/tokens')).unpinCommand,
  // --- the bots' endpoints and channel rights (issue 11) ---
  'bots check-permissions': async () => (await import('./commands/bots')).checkPermissionsCommand,
  // --- the runbook (issue 13) ---
  runbook: async () => (await import('./commands/runbook')).command,
  // --- readiness (issue 14) ---
  readiness: async () => (await import('./commands/readiness')).command,
};

/** Find the longest registered command name that prefixes argv; returns it and the rest of argv. */
export function resolveCommand(argv: readonly string[]): { name: string; rest: string[] } | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  for (let n = Math.min(3, words.length); n >= 1; n--) {
    const candidate = argv.slice(0, n);
    if (candidate.some((w) => w.startsWith('-'))) continue;
    const name = candidate.join(' ');
    if (COMMANDS[name]) return { name, rest: argv.slice(n) };
  }
  return undefined;
}
