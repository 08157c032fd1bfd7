/**
 * The readiness observer's KMS and jobs facts over the real SDK clients (issue 14): KMS `DescribeKey` (the key's
 * `KeyState`, both regions), ECR `DescribeImages` (the backup job's image in the standby region, tag `latest` or
 * any image), Lambda `GetFunction` (`Configuration.State`), EventBridge Scheduler `GetSchedule` (`State`). One
 * request per fact; a resource that does not exist is an answer (null / not present), any other error rejects
 * (the observer reports it as not observed).
 */
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { GetScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { JobsProbe, KmsKeyProbe } from './readiness-observer';

const notFound = (err: unknown, ...names: string[]) => names.includes((err as { name?: string }).name ?? '');

export function awsKmsKeyProbe(kms: (region: string) => KMSClient): KmsKeyProbe {
  return {
    async keyState(region, keyId) {
      const r = await kms(region).send(new DescribeKeyCommand({ KeyId: keyId }));
      return r.KeyMetadata?.KeyState ?? 'unknown';
    },
  };
}

export interface JobsClients {
  ecr: (region: string) => ECRClient;
  lambda: (region: string) => LambdaClient;
  scheduler: (region: string) => SchedulerClient;
}

export function awsJobsProbe(c: JobsClients): JobsProbe {
  return {
    async image(region, repository) {
      try {
        const r = await c.ecr(region).send(new DescribeImagesCommand({ repositoryName: repository, maxResults: 10 }));
        const images = r.imageDetails ?? [];
        if (!images.length) return { present: false, detail: `the repository ${repository} holds no image` };
        const newest = [...images].sort((a, b) => (b.imagePushedAt?.getTime() ?? 0) - (a.imagePushedAt?.getTime() ?? 0))[0];
        return { present: true, detail: `${newest.imageTags?.join(',') || newest.imageDigest?.slice(0, 19) || 'an image'} pushed ${newest.imagePushedAt?.toISOString() ?? 'at an unknown time'}` };
      } catch (err) {
        if (notFound(err, 'RepositoryNotFoundException')) return { present: false, detail: `no repository ${repository} in ${region}` };
        throw err;
      }
    },
    async functionState(region, name) {
      try {
        const r = await c.lambda(region).send(new GetFunctionCommand({ FunctionName: name }));
        return r.Configuration?.State ?? 'Active';
      } catch (err) {
        if (notFound(err, 'ResourceNotFoundException')) return null;
        throw err;
      }
    },
    async scheduleState(region, name) {
      try {
        const r = await c.scheduler(region).send(new GetScheduleCommand({ Name: name }));
        return r.State === 'DISABLED' ? 'DISABLED' : 'ENABLED';
      } catch (err) {
        if (notFound(err, 'ResourceNotFoundException')) return null;
        throw err;
      }
    },
  };
}
