/**
 * The token monitor's timing on AWS, one definition for the Lambda, its schedule and the predictions: an
 * EventBridge schedule (1 minute is its shortest rate) and, within each invocation, probe rounds a few seconds
 * apart, so that N consecutive failed probes are reached well inside one period.
 */
export const TOKEN_MONITOR_TIMING = {
  /** EventBridge schedule period. */
  scheduleSeconds: 60,
  /** Probe rounds per invocation. */
  rounds: 4,
  /** Between rounds. */
  roundIntervalSeconds: 15,
  /** One probe's timeout (the prober's). */
  probeSeconds: 10,
  /** Consecutive failed probes that switch a token (a revoked one fails at once). */
  failuresToSwitch: 3,
} as const;
