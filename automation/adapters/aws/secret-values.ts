/**
 * Reading a secret's value from Secrets Manager (`GetSecretValue`, throttling retried with the bounded backoff).
 * The value is returned to the caller, who registers what it must scrub; nothing here logs it.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_RETRY, isThrottling, withRetry } from './retry';

/** The `SecretString` of `secretId` in `region` (undefined for a binary or empty secret). */
export type SecretReader = (region: string, secretId: string) => Promise<string | undefined>;

export function secretStringReader(secretsManager: (region: string) => SecretsManagerClient, retry?: Partial<typeof AWS_RETRY>): SecretReader {
  return async (region, secretId) => {
    const out = await withRetry(() => secretsManager(region).send(new GetSecretValueCommand({ SecretId: secretId })), { ...AWS_RETRY, ...retry, retryable: isThrottling, what: `Secrets Manager GetSecretValue ${secretId}` });
    return out.SecretString;
  };
}
