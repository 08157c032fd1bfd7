/**
 * A stateful Secrets Manager (one region) behind aws-sdk-client-mock for the token-store suites: secrets with
 * versions and staging labels, answering GetSecretValue, DescribeSecret, PutSecretValue (ClientRequestToken
 * idempotency, ResourceExistsException for the same token with other content, AWSCURRENT/AWSPREVIOUS moves) and
 * UpdateSecretVersionStage the way the service documents them. Hooks let a test slip another writer in between.
 */
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';

interface Version {
  text: string;
  stages: string[];
}

function awsError(name: string, message: string): Error {
  const e = new Error(message) as Error & { $metadata: { httpStatusCode: number } };
  e.name = name;
  e.$metadata = { httpStatusCode: 400 };
  return e;
}

/** One region's Secrets Manager, in memory. */
export class TokenSecrets {
  readonly client: SecretsManagerClient;
  readonly mock: AwsClientStub<SecretsManagerClient>;
  /**
   * Secret id → the region it replicates from: such a secret is a read-only replica here (DescribeSecret reports
   * that `PrimaryRegion`; PutSecretValue is refused as the service refuses it). Delete the entry to promote it.
   */
  readonly replicaOf: Record<string, string> = {};
  private readonly secrets = new Map<string, Map<string, Version>>();
  /** Throttle the next N calls of a command name (e.g. `PutSecretValue`). */
  readonly throttleNext: Record<string, number> = {};
  /** Called before a PutSecretValue is applied (after the store's check): another writer can go here. */
  beforePut?: (id: string) => void;
  /** Called after a PutSecretValue is applied, before the store verifies. */
  afterPut?: (id: string) => void;
  /** Make every call fail as if the endpoint did not resolve. */
  down = false;
  private seq = 0;

  constructor(readonly region = 'us-east-1') {
    this.client = new SecretsManagerClient({ region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' } });
    this.mock = mockClient(this.client);
    this.mock.on(GetSecretValueCommand).callsFake((i: { SecretId?: string; VersionStage?: string; VersionId?: string }) => {
      this.gate('GetSecretValue');
      const vs = this.secret(i.SecretId);
      const found = [...vs].find(([id, v]) => (i.VersionId ? id === i.VersionId : v.stages.includes(i.VersionStage ?? 'AWSCURRENT')));
      if (!found) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value");
      return { ARN: `arn:${i.SecretId}`, Name: i.SecretId, VersionId: found[0], SecretString: found[1].text, VersionStages: found[1].stages };
    });
    this.mock.on(DescribeSecretCommand).callsFake((i: { SecretId?: string }) => {
      this.gate('DescribeSecret');
      const vs = this.secret(i.SecretId);
      const primary = this.replicaOf[i.SecretId ?? ''];
      return { ARN: `arn:${i.SecretId}`, Name: i.SecretId, ...(primary ? { PrimaryRegion: primary } : {}), VersionIdsToStages: Object.fromEntries([...vs].filter(([, v]) => v.stages.length > 0).map(([id, v]) => [id, [...v.stages]])) };
    });
    this.mock.on(PutSecretValueCommand).callsFake((i: { SecretId?: string; SecretString?: string; ClientRequestToken?: string }) => {
      this.gate('PutSecretValue');
      if (this.replicaOf[i.SecretId ?? '']) throw awsError('InvalidRequestException', `Operation not permitted on a replica secret. Call must be made in primary secret's region ${this.replicaOf[i.SecretId ?? '']}.`);
      this.beforePut?.(i.SecretId ?? '');
      const r = this.put(i.SecretId ?? '', i.SecretString ?? '', i.ClientRequestToken);
      this.afterPut?.(i.SecretId ?? '');
      return r;
    });
    this.mock.on(UpdateSecretVersionStageCommand).callsFake((i: { SecretId?: string; VersionStage?: string; MoveToVersionId?: string; RemoveFromVersionId?: string }) => {
      this.gate('UpdateSecretVersionStage');
      const vs = this.secret(i.SecretId);
      const stage = i.VersionStage ?? '';
      const holder = [...vs].find(([, v]) => v.stages.includes(stage))?.[0];
      if (holder !== undefined && holder !== i.RemoveFromVersionId) throw awsError('InvalidParameterException', `The staging label ${stage} is currently attached to version ${holder}`);
      if (!i.MoveToVersionId || !vs.has(i.MoveToVersionId)) throw awsError('ResourceNotFoundException', 'no such version');
      this.move(vs, stage, i.MoveToVersionId);
      return { ARN: `arn:${i.SecretId}`, Name: i.SecretId };
    });
  }

  private gate(command: string): void {
    if (this.down) {
      const e = new Error('getaddrinfo ENOTFOUND secretsmanager.us-east-1.amazonaws.com') as Error & { code: string };
      e.code = 'ENOTFOUND';
      throw e;
    }
    if ((this.throttleNext[command] ?? 0) > 0) {
      this.throttleNext[command]--;
      throw awsError('ThrottlingException', 'Rate exceeded');
    }
  }

  private secret(id: string | undefined): Map<string, Version> {
    const s = this.secrets.get(id ?? '');
    if (!s) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return s;
  }

  /** Move `stage` to `to`; moving AWSCURRENT also moves AWSPREVIOUS to the version AWSCURRENT left. */
  private move(vs: Map<string, Version>, stage: string, to: string): void {
    const from = [...vs].find(([, v]) => v.stages.includes(stage))?.[0];
    if (from === to) return;
    for (const v of vs.values()) v.stages = v.stages.filter((s) => s !== stage);
    vs.get(to)?.stages.push(stage);
    if (stage === 'AWSCURRENT' && from !== undefined) this.move(vs, 'AWSPREVIOUS', from);
  }

  /** PutSecretValue as the service does it (also used to play another writer). */
  put(id: string, text: string, token?: string): { ARN: string; Name: string; VersionId: string; VersionStages: string[] } {
    const vs = this.secret(id);
    const versionId = token ?? `external-${++this.seq}`.padEnd(32, '0');
    const existing = vs.get(versionId);
    if (existing) {
      if (existing.text !== text) throw awsError('ResourceExistsException', `You can't modify an existing version, you can only create a new version.`);
      return { ARN: `arn:${id}`, Name: id, VersionId: versionId, VersionStages: [...existing.stages] };
    }
    vs.set(versionId, { text, stages: [] });
    this.move(vs, 'AWSCURRENT', versionId);
    return { ARN: `arn:${id}`, Name: id, VersionId: versionId, VersionStages: ['AWSCURRENT'] };
  }

  /** Create a secret whose first version is `value` (as the BotTokens component does; a string is stored as is). */
  create(id: string, value: unknown, versionId = 'initial-version-0000000000000000000'): this {
    this.secrets.set(id, new Map([[versionId, { text: typeof value === 'string' ? value : JSON.stringify(value), stages: ['AWSCURRENT'] }]]));
    return this;
  }

  /** The version holding `stage`. */
  holder(id: string, stage: string): string | undefined {
    return [...this.secret(id)].find(([, v]) => v.stages.includes(stage))?.[0];
  }

  /** The AWSCURRENT value, parsed. */
  current(id: string): Record<string, unknown> {
    const h = this.holder(id, 'AWSCURRENT');
    return JSON.parse(this.secret(id).get(h ?? '')?.text ?? 'null') as Record<string, unknown>;
  }

  /** How many versions the secret has (labelled or not). */
  versionCount(id: string): number {
    return this.secret(id).size;
  }

  restore(): void {
    this.mock.restore();
  }
}
