/**
 * The AWS clients the Lambda handler's `runEvent` takes, all in one region, for tests that mock them with
 * aws-sdk-client-mock (a mock installed on a client class applies to these instances).
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { AwsClients } from '../../automation/lambda/handler';

export function lambdaClients(region = 'eu-west-1'): AwsClients {
  return {
    secrets: new SecretsManagerClient({ region }),
    cloudwatch: new CloudWatchClient({ region }),
    sns: new SNSClient({ region }),
    rds: new RDSClient({ region }),
    elasticache: new ElastiCacheClient({ region }),
  };
}
