/**
 * The failover engine's public API. Entry points (the `dr failover/failback/drill/watch` commands, the health
 * monitor, the AWS commands) import from here only.
 *
 * - {@link planFailover} / {@link formatPlan} / {@link planToJson}: the pure plan (what dry-run prints).
 * - {@link runFailover}: execute (or dry-run) a journaled, idempotent, resumable failover over the ports.
 * - {@link guardOldPrimary}: the split-brain guard, called periodically by the health monitor / `dr watch`.
 * - {@link findResumable} / {@link abandonFailover}: journal helpers for `--resume`.
 * - Ports in `./ports`: implement them for an environment (local adapters, AWS adapters).
 */
export * from './step-names';
export * from './ports';
export * from './plan';
export * from './lsn';
export * from './journal';
export * from './engine';
export * from './guard';
