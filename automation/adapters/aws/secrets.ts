/**
 * SecretsPort on AWS: Secrets Manager replicas in the surviving region become standalone, writable secrets.
 *
 * - check: `DescribeSecret` (client in the surviving region, SecretId = the replica's ARN there). A replica
 *   reports `PrimaryRegion` = the region it replicates from; a standalone secret reports none (or its own region).
 * - act: `StopReplicationToReplica` with the same client and SecretId: the replica is promoted to a standalone
 *   secret in that region, so bots can rotate their tokens there while the old region is gone.
 * Secret VALUES are never read here.
 */
import { DescribeSecretCommand, SecretsManagerClient, StopReplicationToReplicaCommand } from '@aws-sdk/client-secrets-manager';
import { errorSummary, OperationError } from '../../core/errors';
import { redact } from '../../core/redact';
import type { CallOptions, SecretsPort } from '../../failover/index';
import { AWS_RETRY, isThrottling, isUnreachable, withRetry } from './retry';
import { systemClock, type Clock } from '../../core/clock';

export interface SecretsOptions {
  secretsManager: (region: string) => SecretsManagerClient;
  clock?: Clock;
  retry?: Partial<typeof AWS_RETRY>;
}

export class SecretsManagerReplicas implements SecretsPort {
  readonly unavailable = undefined;
  private readonly clock: Clock;
  private readonly retry: typeof AWS_RETRY;

  constructor(private readonly o: SecretsOptions) {
    this.clock = o.clock ?? systemClock;
    this.retry = { ...AWS_RETRY, ...o.retry };
  }

  private async call<T>(what: string, region: string, fn: () => Promise<T>, opts?: CallOptions): Promise<T> {
    try {
      return await withRetry(fn, { ...this.retry, retryable: isThrottling, clock: this.clock, signal: opts?.signal, log: opts?.log && ((l) => opts.log!(redact(l))), what });
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'ResourceNotFoundException') throw new OperationError(`${what}: the secret does not exist in ${region} (was it replicated there?)`);
      if (isUnreachable(err)) throw new OperationError(`${what}: Secrets Manager in ${region} does not answer (${errorSummary(err)})`);
      throw err;
    }
  }

  async isPromoted(region: string, secretId: string, opts?: CallOptions): Promise<boolean> {
    const r = await this.call(`Secrets Manager DescribeSecret ${secretId} in ${region}`, region, () => this.o.secretsManager(region).send(new DescribeSecretCommand({ SecretId: secretId })), opts);
    return r.PrimaryRegion === undefined || r.PrimaryRegion === region;
  }

  async promote(region: string, secretId: string, opts?: CallOptions): Promise<void> {
    await this.call(`Secrets Manager StopReplicationToReplica ${secretId} in ${region}`, region, () => this.o.secretsManager(region).send(new StopReplicationToReplicaCommand({ SecretId: secretId })), opts);
    opts?.log?.(`secret ${secretId}: replication stopped, writable in ${region}`);
  }
}
