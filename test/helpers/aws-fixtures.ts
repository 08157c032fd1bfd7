/** Realistic `pulumi stack output --json` documents for a us-east-1 / us-west-2 DR pair (names and ARNs only). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ACCOUNT = '123456789012';

export function primaryOutputs(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    role: 'primary',
    region: 'us-east-1',
    peerRegion: 'us-west-2',
    dbIdentifier: 'botdr-use1-pg',
    dbEndpoint: 'botdr-use1-pg.abc123.us-east-1.rds.amazonaws.com:5432',
    dbArn: `arn:aws:rds:us-east-1:${ACCOUNT}:db:botdr-use1-pg`,
    dbSecretArn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:rds!db-1111-AbCdEf`,
    cacheEndpoint: 'master.botdr-use1-redis.abc123.use1.cache.amazonaws.com',
    cacheReplicationGroupId: 'botdr-use1-redis',
    cacheAuthSecretArn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:botdr/cache-auth-XyZ123`,
    globalDatastoreId: 'ldgnf-botdr-global',
    bucketName: 'botdr-use1-backups-20260101',
    bucketArn: 'arn:aws:s3:::botdr-use1-backups-20260101',
    kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1111-2222`,
    peerReplicaKmsKeyArn: `arn:aws:kms:us-west-2:${ACCOUNT}:key/3333-4444`,
    botTokenSecretArns: {
      community: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:botdr/bot-tokens/community-Qw1234`,
      moderation: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:botdr/bot-tokens/moderation-Er5678`,
    },
    healthCheckId: 'hc-primary-0001',
    recordName: 'bot.example.com',
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
    vpcId: 'vpc-0001',
    subnetIds: ['subnet-a', 'subnet-b'],
    appSecurityGroupId: 'sg-app',
    backupSecurityGroupId: 'sg-backup',
    ...over,
  };
}

export function secondaryOutputs(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    role: 'secondary',
    region: 'us-west-2',
    peerRegion: 'us-east-1',
    dbIdentifier: 'botdr-usw2-pg',
    dbEndpoint: 'botdr-usw2-pg.def456.us-west-2.rds.amazonaws.com:5432',
    dbArn: `arn:aws:rds:us-west-2:${ACCOUNT}:db:botdr-usw2-pg`,
    cacheEndpoint: 'master.botdr-usw2-redis.def456.usw2.cache.amazonaws.com',
    cacheReplicationGroupId: 'botdr-usw2-redis',
    cacheAuthSecretArn: `arn:aws:secretsmanager:us-west-2:${ACCOUNT}:secret:botdr/cache-auth-XyZ123`,
    globalDatastoreId: 'ldgnf-botdr-global',
    bucketName: 'botdr-usw2-backups-20260101',
    bucketArn: 'arn:aws:s3:::botdr-usw2-backups-20260101',
    kmsKeyArn: `arn:aws:kms:us-west-2:${ACCOUNT}:key/5555-6666`,
    botTokenSecretArns: {},
    healthCheckId: 'hc-secondary-0002',
    recordName: 'bot.example.com',
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
    vpcId: 'vpc-0002',
    subnetIds: ['subnet-c', 'subnet-d'],
    appSecurityGroupId: 'sg-app2',
    backupSecurityGroupId: 'sg-backup2',
    ...over,
  };
}

/** A temp dir with primary.json / secondary.json (either may be left out with `null`). */
export function outputsDir(primary: unknown | null = primaryOutputs(), secondary: unknown | null = secondaryOutputs()): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dr-outputs-'));
  if (primary !== null) fs.writeFileSync(path.join(dir, 'primary.json'), typeof primary === 'string' ? primary : JSON.stringify(primary, null, 2));
  if (secondary !== null) fs.writeFileSync(path.join(dir, 'secondary.json'), typeof secondary === 'string' ? secondary : JSON.stringify(secondary, null, 2));
  return dir;
}
