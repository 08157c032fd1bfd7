/**
 * The backup engine's public API. Every module outside `automation/backup/` imports from here only.
 *
 * - {@link backupPostgres} / {@link restorePostgres}, {@link backupRedis} / {@link restoreRedis}: streamed,
 *   checksummed backups and verified restores over the {@link ObjectStore} and tool ports.
 * - {@link selectiveRestore} (`selective.ts`): some tables' rows from a backup or a point in time, in one
 *   transaction; {@link safetyBackupPostgres} / {@link safetyBackupRedis} (`safety.ts`): the verified copy under
 *   `safety/` taken before any restore overwrites data.
 * - {@link runBackupJob}-style jobs (`job.ts`), the weekly restore test (`restore-test.ts`), `dr verify`
 *   (`verify.ts`), `dr backups check` (`check.ts`).
 * - The catalog of backups in a bucket (`catalog.ts`), keys and manifests (`keys.ts`, `manifest.ts`), retention
 *   (`retention.ts`), which backup `--from` names (`resolve.ts`), restore-test metrics (`restore-metrics.ts`).
 * - Divergent backups before failback (`divergent.ts`; the pure comparison and split point in `divergence.ts`).
 * - Ports in `./ports`: implement them for an environment (adapters/aws, adapters/tools).
 */
export * from './ports';
export * from './catalog';
export * from './check';
export * from './divergence';
export * from './divergent';
export * from './job';
export * from './keys';
export * from './manifest';
export * from './postgres';
export * from './redis';
export * from './resolve';
export * from './restore-metrics';
export * from './restore-test';
export * from './retention';
export * from './safety';
export * from './selective';
export * from './stream-restore';
export * from './verify';
