/**
 * One file per failover step, in execution order (the names are fixed in ../step-names.ts). To add a step: add
 * its name to STEP_NAMES, decide in ../plan.ts when it runs and what it targets, write `<step>.ts` here as
 * check-then-act, and register it below.
 */
import type { StepName } from '../step-names';
import type { StepRunner } from './context';
import { catchUpStep } from './catch-up';
import { fenceStep } from './fence';
import { preflightStep } from './preflight';
import { promoteCacheStep } from './promote-cache';
import { promoteDatabaseStep } from './promote-database';
import { promoteSecretsStep } from './promote-secrets';
import { reconcileStep } from './reconcile';
import { recordStep } from './record';
import { switchDnsStep } from './switch-dns';
import { verifyStep } from './verify';

export const STEP_RUNNERS: Record<StepName, StepRunner> = {
  preflight: preflightStep,
  fence: fenceStep,
  'catch-up': catchUpStep,
  'promote-database': promoteDatabaseStep,
  'promote-cache': promoteCacheStep,
  'promote-secrets': promoteSecretsStep,
  'switch-dns': switchDnsStep,
  verify: verifyStep,
  record: recordStep,
  reconcile: reconcileStep,
};

export { AbortFailover, describeLoss, isCrashLike } from './context';
export type { EstimatedDataLoss, RunState, StepContext, StepOutcome, StepRunner } from './context';
