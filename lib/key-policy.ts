/**
 * KMS key policy of a region's DR key — a pure function, tested without Pulumi.
 *
 * - The account root administers the key (so IAM policies decide who else may use it; no lock-out).
 * - AWS services that encrypt our data use it only on behalf of this account, only through that service
 *   in this region (kms:ViaService + kms:CallerAccount): RDS, S3, Secrets Manager, ElastiCache, SNS.
 * - Grants (RDS, ElastiCache, Secrets Manager replicas create them) only for AWS resources.
 * - CloudWatch Logs (a regional service principal) may use it only for log groups of this account and
 *   region (encryption context condition).
 * - CloudWatch alarms and EventBridge may publish to the KMS-encrypted SNS topic.
 * - ElastiCache's regional snapshot principal may have S3 (this region) encrypt/decrypt its snapshot exports.
 */

/** Services that use the key through kms:ViaService. */
export const KEY_VIA_SERVICES = ['rds', 's3', 'secretsmanager', 'elasticache', 'sns', 'lambda', 'sqs', 'ecr'] as const;

export interface KeyPolicyInput {
  accountId: string;
  region: string;
  partition?: string;
}

export interface KeyPolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal: Record<string, string | string[]>;
  Action: string[];
  Resource: string;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface KeyPolicyDocument {
  Version: '2012-10-17';
  Statement: KeyPolicyStatement[];
}

export function regionalKeyPolicy({ accountId, region, partition = 'aws' }: KeyPolicyInput): KeyPolicyDocument {
  if (!/^\d{12}$/.test(accountId)) throw new Error(`accountId must be 12 digits, got ${JSON.stringify(accountId)}`);
  const use = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'];
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AccountRootAdministers',
        Effect: 'Allow',
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: ['kms:*'],
        Resource: '*',
      },
      {
        Sid: 'ServicesUseViaThisAccount',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: use,
        Resource: '*',
        Condition: {
          StringEquals: {
            'kms:CallerAccount': accountId,
            'kms:ViaService': KEY_VIA_SERVICES.map((s) => `${s}.${region}.amazonaws.com`),
          },
        },
      },
      {
        Sid: 'ServicesCreateGrantsForAwsResources',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'],
        Resource: '*',
        Condition: {
          StringEquals: {
            'kms:CallerAccount': accountId,
            'kms:ViaService': KEY_VIA_SERVICES.map((s) => `${s}.${region}.amazonaws.com`),
          },
          Bool: { 'kms:GrantIsForAWSResource': 'true' },
        },
      },
      {
        Sid: 'CloudWatchLogsOfThisAccountAndRegion',
        Effect: 'Allow',
        Principal: { Service: `logs.${region}.amazonaws.com` },
        Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        Resource: '*',
        Condition: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${accountId}:*` },
        },
      },
      {
        // ElastiCache writes an exported snapshot into the SSE-KMS backup bucket as its own service principal, so
        // S3 asks KMS for a data key on ITS behalf (Decrypt for the multipart parts). Only through S3 in this region.
        // The bucket policy limits where it may write (redis/exports/). See docs/infra-notes.md (unverified on AWS).
        Sid: 'ElastiCacheExportViaS3',
        Effect: 'Allow',
        Principal: { Service: `${region}.elasticache-snapshot.amazonaws.com` },
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
      },
      {
        Sid: 'AlarmsAndEventsPublishToEncryptedTopic',
        Effect: 'Allow',
        Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
      },
    ],
  };
}
