/**
 * Stack configuration: one typed, validated, defaulted `StackConfig` read before any resource is declared.
 *
 * Every problem is collected and reported together in one `ConfigError`; each line names the full key
 * (e.g. `bot-platform-dr:peerRegion`, `bot-platform-dr:database.backupRetentionDays`) and says what is allowed.
 *
 * Structured keys are set with `pulumi config set --path`, e.g.
 *   pulumi config set --path database.instanceClass db.r6g.large
 *   pulumi config set --secret --path 'botTokens.community[0]' 123456:ABC...
 *   pulumi config set --path bots.moderation.platform discord
 *
 * This module imports @pulumi/pulumi only to wrap bot tokens in `pulumi.secret`; validation itself is pure.
 */
import * as pulumi from '@pulumi/pulumi';
import { BACKUP_RUNNERS, BackupRunner, FARGATE_SIZES, RUNNER_DEFAULTS, RUNNER_LIMITS, runnerFitProblems } from './backup-runner';
import { isRegionName, NAME_PREFIX_MAX, NAME_PREFIX_MIN, NAME_PREFIX_PATTERN, postgresParameterGroupFamily } from './naming';
import { SEVERITIES, type Severity } from './runbook';
import {
  BOT_MODES,
  BOT_NAME_RULE,
  BOT_PLATFORMS,
  type BotMode,
  type BotPlatform,
  DEFAULT_DISCORD_PERMISSIONS,
  defaultTelegramWebhookUrl,
  HOSTNAME_PATTERN,
  isAdoptionAmbiguousBotName,
  isBotMode,
  isBotName,
  isBotPlatform,
  isChannelId,
  isDiscordPermissionName,
  isEmailAddress,
  isHttpsUrl,
  isPlatformToken,
  PLATFORM_CHANNEL_RULE,
  PLATFORM_TOKEN_RULE,
} from './validators';

export const PROJECT = 'bot-platform-dr';

export const ROLES = ['primary', 'secondary', 'scratch'] as const;
export type Role = (typeof ROLES)[number];

export const OBJECT_LOCK_MODES = ['GOVERNANCE', 'COMPLIANCE'] as const;
export type ObjectLockMode = (typeof OBJECT_LOCK_MODES)[number];

export const RESTORE_SOURCES = ['latest-snapshot', 'point-in-time'] as const;
export type RestoreSource = (typeof RESTORE_SOURCES)[number];

/** Network: either use an existing VPC (`vpcId` + `subnetIds`), or create one from `vpcCidr`. */
export type NetworkConfig =
  | { mode: 'existing'; vpcId: string; subnetIds: string[] }
  | { mode: 'create'; vpcCidr: string; azCount: number };

export interface DatabaseConfig {
  /** PostgreSQL engine version, e.g. `16.4`. Default `16.4`. */
  engineVersion: string;
  /** Parameter group family derived from `engineVersion`, e.g. `postgres16`. */
  parameterGroupFamily: string;
  /** RDS instance class. Default `db.t4g.medium`. */
  instanceClass: string;
  /** Allocated storage in GiB (20–65536). Default 50. */
  allocatedStorage: number;
  /** Storage autoscaling ceiling in GiB (≥ allocatedStorage). Default 200. */
  maxAllocatedStorage: number;
  /** Multi-AZ standby. Default true. */
  multiAz: boolean;
  /** Automated backup retention (PITR window) in days, 7–35. Default 14. */
  backupRetentionDays: number;
  /** Deletion protection (forced off for scratch). Default true. */
  deletionProtection: boolean;
  /** Secondary only: true drops the replica relationship (the failover promotes this way). Default false. */
  promoted: boolean;
  /**
   * A promoted secondary takes the primary's posture: Multi-AZ (whatever `multiAz` says for the replica), so the
   * region that now serves keeps AZ redundancy. Default true; false keeps `multiAz` as set.
   */
  promotedMultiAz: boolean;
  /** Initial database name (primary/scratch). Default `bot`. */
  dbName: string;
  /** Master user name (primary). Default `botadmin`. */
  masterUsername: string;
  /** Daily backup window (UTC, `hh:mm-hh:mm`). Default `03:00-04:00`. */
  backupWindow: string;
  /** Weekly maintenance window (UTC, `ddd:hh:mm-ddd:hh:mm`). Default `sun:05:00-sun:06:00`. */
  maintenanceWindow: string;
}

export interface CacheConfig {
  /** Redis engine version. Default `7.1`. */
  engineVersion: string;
  /** ElastiCache node type. Default `cache.t4g.small` (`cache.r7g.large` recommended with a global datastore). */
  nodeType: string;
  /** Read replicas per shard, 0–5. Automatic failover + multi-AZ iff ≥ 1. Default 1. */
  replicas: number;
  /** Primary owns a global datastore; the secondary joins it. Default false. */
  globalDatastore: boolean;
  /** Days of automatic snapshots kept, 0–35. Default 7. */
  snapshotRetentionDays: number;
  /** Daily snapshot window (UTC, `hh:mm-hh:mm`). Default `04:00-05:00`. */
  snapshotWindow: string;
  /**
   * Which global datastore the pair uses, 1–99: 1 is the first (`<prefix>-redis-global`), n ≥ 2 the one created after
   * an unplanned failover left generation n − 1 behind (`<prefix>-redis-g<n>`). Both stacks carry the same value;
   * `dr failover` sets it. Default 1.
   */
  globalDatastoreGeneration: number;
  /**
   * Secondary only, set by `dr failover` on the survivor of an unplanned failover whose cache had to leave the global
   * datastore (`DisassociateGlobalReplicationGroup`): this stack's group was created as a member, stands alone now, and
   * this stack creates the datastore of `globalDatastoreGeneration` from it, keeping the AUTH token it inherited (its
   * secret is the promoted replica of the peer's). Reset to false on the lost stack, which rejoins as a member at
   * failback. Default false.
   */
  detached: boolean;
}

/** Retention in days per tier for one service. */
export interface TierRetentionDays {
  daily: number;
  weekly: number;
  monthly: number;
}

export interface BackupConfig {
  /** PostgreSQL dump tiers (`postgresql/<tier>/`). Default 7/28/365. */
  postgresql: TierRetentionDays;
  /** Redis snapshot tiers (`redis/<tier>/`). Default 7/28/365. */
  redis: TierRetentionDays;
  /** Configuration backups (`config/`). Default 90. */
  configDays: number;
  /** Optional S3 Object Lock default retention. */
  objectLock?: { mode: ObjectLockMode; days: number };
  /** Replicate the backup bucket to the peer region's bucket (needs `peerStack`). Default true (not for scratch). */
  replicateToPeer: boolean;
  /** Where the backup job and the restore test run, and their size (lib/backup-runner.ts). */
  job: BackupJobConfig;
}

/**
 * The backup job's runner and size (`backup.runner`, `backup.memoryMb`, …): the Lambda function, or the same image
 * as an ECS Fargate task. Defaults depend on the runner (lib/backup-runner.ts `RUNNER_DEFAULTS`).
 */
export interface BackupJobConfig {
  /** `lambda` (default) or `fargate` (recommended above `FARGATE_RECOMMENDED_ABOVE_GB`). */
  runner: BackupRunner;
  /** The database size the job must handle (GB); checked against the runner's limits. Unset: not checked. */
  expectedDatabaseGb?: number;
  /** Lambda memory (512–10240 MB, default 2048) or Fargate task memory (MiB, valid for `cpu`, default 4096). */
  memoryMb: number;
  /** Fargate task CPU units (256–16384, default 1024); 0 on lambda (CPU comes with memory). */
  cpu: number;
  /** Lambda timeout (60–900 s, default 900) or the task's own deadline (60–86400 s, default 21600). */
  timeoutSeconds: number;
  /** Lambda /tmp (1–10 GB, default 4) or the task's ephemeral storage (21–200 GiB, default 21). */
  ephemeralStorageGb: number;
  /** pg_restore jobs of the weekly restore test: 1 (default) streams with no local copy; 2–16 need the dump on local storage. */
  restoreTestJobs: number;
}

export interface BotConfig {
  /** Bot name (lib/validators.ts `BOT_NAME_PATTERN`: 1–40 of `[a-z0-9-]`), used in secret names. */
  name: string;
  /** The platform the bot runs on (`bots.<bot>.platform`). Default `telegram`. */
  platform: BotPlatform;
  /** Chat or channel ids the bot serves (`bots.<bot>.channels`), as strings; empty when not given. */
  channels: string[];
  /**
   * How the bot receives updates (`bots.<bot>.mode`): `webhook` (default; Telegram `setWebhook`, Discord HTTP
   * interactions) or `polling` (Telegram `getUpdates`, Discord gateway only).
   */
  mode: BotMode;
  /**
   * The bot's https webhook URL (`bots.<bot>.webhookUrl`): Telegram's webhook, Discord's interactions endpoint. A
   * Telegram webhook bot without one gets `https://<dns.recordName>/telegram/<bot>` when the stack has DNS
   * ({@link webhookUrlDefaulted}); a polling bot has none. May embed a secret: never log or export it.
   */
  webhookUrl?: string;
  /** True when {@link webhookUrl} is the DNS default, not configured. */
  webhookUrlDefaulted?: boolean;
  /**
   * Discord only (`bots.<bot>.permissions`): the `PermissionFlagsBits` names the bot needs in each configured
   * channel; default View Channel, Send Messages, Attach Files, Read Message History. Empty for Telegram, whose
   * rights follow the chat type.
   */
  permissions: string[];
  /**
   * The seed tokens of the bot's secret (several per bot for rotation/fallback); a secret Output — never log or
   * export it. Empty on a stack that does not create the secret (a secondary: the token engine owns the value).
   */
  tokens: pulumi.Output<string[]>;
  /** Number of tokens (not secret); 0 when the stack declares none. */
  tokenCount: number;
}

export interface DnsConfig {
  /** Route 53 hosted zone id (e.g. `Z0123456789ABCDEFGHIJ`). */
  hostedZoneId: string;
  /** The failover record name, e.g. `bot.example.com`. */
  recordName: string;
  /** This region's application endpoint hostname (health-checked, CNAME target). */
  endpoint: string;
  /** HTTPS health check path. Default `/healthz`. */
  healthCheckPath: string;
  /** Health check port. Default 443. */
  healthCheckPort: number;
  /** Record TTL in seconds. Default 60. */
  ttl: number;
}

export interface AlertsConfig {
  /** Email subscribers of the alerts topic. */
  emails: string[];
  /** Optional HTTPS webhook subscriber. */
  webhookUrl?: string;
  /** Replica-lag alarm threshold (RPO budget) in seconds. Default 900 (RPO < 15 minutes). */
  replicaLagSeconds: number;
  /** Who is called, in order, while an incident is open (`dr runbook` lists it). Default none. */
  escalation: EscalationLevel[];
}

/** One level of the escalation matrix (`alerts.escalation[i]`). */
export interface EscalationLevel {
  /** 1, 2, 3 … in order. */
  level: number;
  /** Who (a role, not a person's private number): e.g. `on-call engineer`. */
  who: string;
  /** How to reach them: an email address, an https URL (pager, chat) or a phone number (+ and digits). */
  contact: string;
  /** Minutes after the incident opened at which this level is called (0 for the first; never decreasing). */
  afterMinutes: number;
  /** The severities that reach this level (default: all). */
  severities: Severity[];
}

export type ScratchConfig =
  | {
      restoreFrom: 'latest-snapshot';
      /** DB instance whose latest snapshot is restored (looked up when `snapshotIdentifier` is not given). */
      sourceDbIdentifier?: string;
      /** Explicit snapshot identifier or ARN. */
      snapshotIdentifier?: string;
    }
  | {
      restoreFrom: 'point-in-time';
      /** ISO-8601 UTC time to restore to, or undefined for the latest restorable time. */
      restoreTime?: string;
      /** Source DB instance identifier (same region). */
      sourceDbIdentifier?: string;
      /** Or: ARN of replicated automated backups (restore in the secondary region after losing the primary). */
      sourceDbAutomatedBackupsArn?: string;
    };

export interface StackConfig {
  role: Role;
  region: string;
  peerRegion: string;
  /** Fully qualified peer stack name `org/project/stack`, when needed. */
  peerStack?: string;
  namePrefix: string;
  network: NetworkConfig;
  database: DatabaseConfig;
  cache: CacheConfig;
  backup: BackupConfig;
  bots: BotConfig[];
  /** Absent = no failover DNS (always absent for scratch). */
  dns?: DnsConfig;
  alerts: AlertsConfig;
  /** Present iff role is scratch. */
  scratch?: ScratchConfig;
  /** Extra tags for every resource. */
  tags: Record<string, string>;
}

/** Defaults — the same values as the `config:` schema in Pulumi.yaml (a test keeps them in sync). */
export const DEFAULTS = {
  namePrefix: 'botdr',
  network: { vpcCidr: '10.40.0.0/16', azCount: 2 },
  database: {
    engineVersion: '16.4',
    instanceClass: 'db.t4g.medium',
    allocatedStorage: 50,
    maxAllocatedStorage: 200,
    multiAz: true,
    backupRetentionDays: 14,
    deletionProtection: true,
    promoted: false,
    promotedMultiAz: true,
    dbName: 'bot',
    masterUsername: 'botadmin',
    backupWindow: '03:00-04:00',
    maintenanceWindow: 'sun:05:00-sun:06:00',
  },
  cache: { engineVersion: '7.1', nodeType: 'cache.t4g.small', replicas: 1, globalDatastore: false, snapshotRetentionDays: 7, snapshotWindow: '04:00-05:00', globalDatastoreGeneration: 1, detached: false },
  backup: { postgresql: { daily: 7, weekly: 28, monthly: 365 }, redis: { daily: 7, weekly: 28, monthly: 365 }, configDays: 90, replicateToPeer: true, runner: 'lambda', restoreTestJobs: 1 },
  dns: { healthCheckPath: '/healthz', healthCheckPort: 443, ttl: 60 },
  alerts: { replicaLagSeconds: 900 },
  /** Per bot (`bots.<bot>`, the object form). */
  bot: { platform: 'telegram', mode: 'webhook', permissions: DEFAULT_DISCORD_PERMISSIONS },
} as const;

/**
 * Every project config key `loadConfig` reads (without the `bot-platform-dr:` namespace), and for structured
 * keys the fields it accepts — the single list the loader uses for "unknown key" checks, and the list a test
 * compares with the `config:` schema of Pulumi.yaml so the two cannot drift. `required` keys have no default
 * in Pulumi.yaml (the Pulumi CLI reports them missing); every other key must have one there, because the CLI
 * treats a declared key without a default as required.
 */
export const CONFIG_KEYS = {
  role: { required: true },
  peerRegion: { required: true },
  peerStack: {},
  namePrefix: {},
  /** Per-bot fields of the object form (`bots.<bot>.<field>`); the plain list of names has none. */
  bots: { fields: ['platform', 'channels', 'webhookUrl', 'mode', 'permissions'] },
  botTokens: { secret: true },
  network: { fields: ['vpcId', 'subnetIds', 'vpcCidr', 'azCount'] },
  database: { fields: Object.keys(DEFAULTS.database) },
  cache: { fields: Object.keys(DEFAULTS.cache) },
  backup: { fields: ['postgresql', 'redis', 'configDays', 'objectLock', 'replicateToPeer', 'runner', 'expectedDatabaseGb', 'memoryMb', 'cpu', 'timeoutSeconds', 'ephemeralStorageGb', 'restoreTestJobs'] },
  dns: { fields: ['hostedZoneId', 'recordName', 'endpoint', 'healthCheckPath', 'healthCheckPort', 'ttl'] },
  alerts: { fields: ['emails', 'webhookUrl', 'replicaLagSeconds', 'escalation'] },
  scratch: { fields: ['restoreFrom', 'restoreTime', 'sourceDbIdentifier', 'snapshotIdentifier', 'sourceDbAutomatedBackupsArn'] },
  tags: {},
} as const satisfies Record<string, { required?: true; secret?: true; fields?: readonly string[] }>;

/** One validation problem. */
export interface ConfigProblem {
  /** Full key, e.g. `bot-platform-dr:database.backupRetentionDays`. */
  key: string;
  message: string;
}

/** All configuration problems of a stack, reported together. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid stack configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` + problems.map((p) => `  - ${p.key}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * Where raw config values come from: full key (`bot-platform-dr:role`, `aws:region`) → the raw string
 * Pulumi stores (structured values are JSON). Secret values are returned decrypted, like `Config.get`.
 */
export interface ConfigSource {
  get(fullKey: string): string | undefined;
}

/** A ConfigSource over the running Pulumi program's config. */
export function pulumiConfigSource(): ConfigSource {
  const byNs = new Map<string, pulumi.Config>();
  return {
    get(fullKey) {
      const i = fullKey.indexOf(':');
      const ns = fullKey.slice(0, i);
      let c = byNs.get(ns);
      if (!c) byNs.set(ns, (c = new pulumi.Config(ns)));
      return c.get(fullKey.slice(i + 1));
    },
  };
}

/** A ConfigSource over a plain map (tests, tooling). Non-string values are JSON-encoded. */
export function mapConfigSource(map: Record<string, unknown>): ConfigSource {
  return {
    get(fullKey) {
      const v = map[fullKey];
      if (v === undefined || v === null) return undefined;
      return typeof v === 'string' ? v : JSON.stringify(v);
    },
  };
}

const K = (key: string) => `${PROJECT}:${key}`;

/** Collects problems while reading typed values. */
class Reader {
  readonly problems: ConfigProblem[] = [];
  constructor(private readonly src: ConfigSource) {}

  fail(key: string, message: string): void {
    this.problems.push({ key, message });
  }

  raw(fullKey: string): string | undefined {
    const v = this.src.get(fullKey);
    return v === undefined || v === '' ? undefined : v;
  }

  /** A structured (object) key; returns {} when unset. */
  object(key: string, allowed: readonly string[]): Record<string, unknown> {
    const full = K(key);
    const raw = this.raw(full);
    if (raw === undefined) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.fail(full, `must be an object (set its fields with \`pulumi config set --path ${key}.<field> <value>\`); got ${JSON.stringify(raw.slice(0, 40))}`);
      return {};
    }
    if (!isPlainObject(parsed)) {
      this.fail(full, 'must be an object with fields ' + allowed.join(', '));
      return {};
    }
    this.unknownFields(full, parsed, allowed);
    return parsed;
  }

  unknownFields(full: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
    for (const f of Object.keys(obj)) {
      if (!allowed.includes(f)) this.fail(`${full}.${f}`, `unknown key; allowed: ${allowed.join(', ')}`);
    }
  }

  str(full: string, v: unknown): string | undefined {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') {
      this.fail(full, `must be a string, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }

  int(full: string, v: unknown, dflt: number, min: number, max: number, unit = ''): number {
    if (v === undefined || v === null || v === '') return dflt;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(full, `must be an integer from ${min} to ${max}${unit ? ` ${unit}` : ''}, got ${JSON.stringify(v)}`);
      return dflt;
    }
    return n;
  }

  bool(full: string, v: unknown, dflt: boolean): boolean {
    if (v === undefined || v === null || v === '') return dflt;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    this.fail(full, `must be true or false, got ${JSON.stringify(v)}`);
    return dflt;
  }

  stringList(full: string, v: unknown): string[] {
    if (v === undefined || v === null || v === '') return [];
    let list = v;
    if (typeof v === 'string') {
      try {
        list = JSON.parse(v);
      } catch {
        list = v.split(',').map((s) => s.trim()).filter(Boolean);
      }
    }
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) {
      this.fail(full, `must be a list of strings, got ${JSON.stringify(v)}`);
      return [];
    }
    return list;
  }

  pattern(full: string, v: string | undefined, re: RegExp, what: string): string | undefined {
    if (v !== undefined && !re.test(v)) {
      this.fail(full, `must be ${what}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const WINDOW = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;
const WEEKLY_WINDOW = /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$/;
const STACK_NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * Read and validate the whole stack configuration. Throws one `ConfigError` listing every problem.
 * Call it before declaring any resource.
 *
 * One reader per section, in this order (problems are reported in the order they are found): the stack's
 * identity, network, database, cache, backup (then the peer stack it needs), bots, DNS, alerts, scratch, tags.
 */
export function loadConfig(src: ConfigSource = pulumiConfigSource()): StackConfig {
  const r = new Reader(src);
  const { role, region, peerRegion, peerStack, namePrefix } = readIdentity(r);
  const network = readNetwork(r);
  const database = readDatabase(r, role);
  const cache = readCache(r, role);
  const backup = readBackup(r, role);
  checkPeerStack(r, role, peerStack, backup);
  const declared = readBots(r, role, database.promoted);
  const dns = readDns(r, role);
  const bots = declared.map((b) => withDefaultWebhook(b, dns));
  const alerts = readAlerts(r);
  const scratch = readScratch(r, role);
  const tags = readTags(r);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return { role, region, peerRegion, peerStack, namePrefix, network, database, cache, backup, bots, dns, alerts, scratch, tags };
}

/** Role, regions, peer stack and name prefix. */
function readIdentity(r: Reader): Pick<StackConfig, 'role' | 'region' | 'peerRegion' | 'peerStack' | 'namePrefix'> {
  const roleRaw = r.raw(K('role'));
  let role: Role = 'primary';
  if (roleRaw === undefined) r.fail(K('role'), `is required; allowed: ${ROLES.join(' | ')}`);
  else if (!(ROLES as readonly string[]).includes(roleRaw)) r.fail(K('role'), `unknown role ${JSON.stringify(roleRaw)}; allowed: ${ROLES.join(' | ')}`);
  else role = roleRaw as Role;

  const region = r.raw('aws:region') ?? '';
  if (!region) r.fail('aws:region', 'is required (e.g. `pulumi config set aws:region us-east-1`)');
  else if (!isRegionName(region)) r.fail('aws:region', `must be an AWS region name like us-east-1, got ${JSON.stringify(region)}`);

  const peerRegion = r.raw(K('peerRegion')) ?? '';
  if (!peerRegion) r.fail(K('peerRegion'), 'is required: the other region of the pair (e.g. us-west-2)');
  else if (!isRegionName(peerRegion)) r.fail(K('peerRegion'), `must be an AWS region name like us-west-2, got ${JSON.stringify(peerRegion)}`);
  else if (peerRegion === region) r.fail(K('peerRegion'), `must differ from aws:region (${region}); a DR pair needs two regions`);

  const peerStack = r.pattern(K('peerStack'), r.raw(K('peerStack')), STACK_NAME, 'a fully qualified stack name org/project/stack');

  const namePrefix = r.raw(K('namePrefix')) ?? DEFAULTS.namePrefix;
  if (namePrefix.length < NAME_PREFIX_MIN || namePrefix.length > NAME_PREFIX_MAX || !NAME_PREFIX_PATTERN.test(namePrefix)) {
    r.fail(
      K('namePrefix'),
      `must be ${NAME_PREFIX_MIN}–${NAME_PREFIX_MAX} characters of lowercase letters, digits and single hyphens, starting with a letter (keeps RDS, S3 and ElastiCache names valid); got ${JSON.stringify(namePrefix)}`,
    );
  }
  return { role, region, peerRegion, peerStack, namePrefix };
}

/** `network`: an existing VPC (`vpcId` + `subnetIds`) or one to create (`vpcCidr`, `azCount`). */
function readNetwork(r: Reader): NetworkConfig {
  const net = r.object('network', CONFIG_KEYS.network.fields);
  const vpcId = r.pattern(K('network.vpcId'), r.str(K('network.vpcId'), net.vpcId), /^vpc-[0-9a-f]{8,17}$/, 'a VPC id like vpc-0123456789abcdef0');
  const subnetIds = r.stringList(K('network.subnetIds'), net.subnetIds);
  if (net.vpcId !== undefined || net.subnetIds !== undefined) {
    if (net.vpcId === undefined) r.fail(K('network.vpcId'), 'is required when network.subnetIds is set (use an existing VPC: vpcId + subnetIds)');
    if (subnetIds.length < 2) r.fail(K('network.subnetIds'), `needs at least 2 subnet ids in different AZs when network.vpcId is set, got ${subnetIds.length}`);
    for (const s of subnetIds) if (!/^subnet-[0-9a-f]{8,17}$/.test(s)) r.fail(K('network.subnetIds'), `contains ${JSON.stringify(s)}; each must be a subnet id like subnet-0123456789abcdef0`);
    if (net.vpcCidr !== undefined) r.fail(K('network.vpcCidr'), 'cannot be combined with network.vpcId: either create a VPC (vpcCidr) or use an existing one (vpcId + subnetIds)');
    return { mode: 'existing', vpcId: vpcId ?? '', subnetIds };
  }
  const vpcCidr = r.str(K('network.vpcCidr'), net.vpcCidr) ?? DEFAULTS.network.vpcCidr;
  const m = CIDR.exec(vpcCidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) < 16 || Number(m[5]) > 24) {
    r.fail(K('network.vpcCidr'), `must be an IPv4 CIDR with a prefix from /16 to /24, got ${JSON.stringify(vpcCidr)}`);
  }
  return { mode: 'create', vpcCidr, azCount: r.int(K('network.azCount'), net.azCount, DEFAULTS.network.azCount, 2, 3, 'availability zones') };
}

/** `database`: engine, size, backups, windows; `promoted` only on a secondary, no deletion protection on scratch. */
function readDatabase(r: Reader, role: Role): DatabaseConfig {
  const db = r.object('database', CONFIG_KEYS.database.fields);
  const dd = DEFAULTS.database;
  const engineVersion = r.str(K('database.engineVersion'), db.engineVersion) ?? dd.engineVersion;
  let parameterGroupFamily = 'postgres16';
  try {
    parameterGroupFamily = postgresParameterGroupFamily(engineVersion);
    if (Number(parameterGroupFamily.replace('postgres', '')) < 12) r.fail(K('database.engineVersion'), `must be PostgreSQL 12 or newer, got ${engineVersion}`);
  } catch {
    r.fail(K('database.engineVersion'), `must be a PostgreSQL version like 16.4, got ${JSON.stringify(engineVersion)}`);
  }
  const instanceClass = r.pattern(K('database.instanceClass'), r.str(K('database.instanceClass'), db.instanceClass), /^db\.[a-z0-9]+\.[a-z0-9]+$/, 'an RDS instance class like db.t4g.medium') ?? dd.instanceClass;
  const allocatedStorage = r.int(K('database.allocatedStorage'), db.allocatedStorage, dd.allocatedStorage, 20, 65536, 'GiB');
  const maxAllocatedStorage = r.int(K('database.maxAllocatedStorage'), db.maxAllocatedStorage, Math.max(dd.maxAllocatedStorage, allocatedStorage), 20, 65536, 'GiB');
  if (maxAllocatedStorage < allocatedStorage) r.fail(K('database.maxAllocatedStorage'), `must be ≥ database.allocatedStorage (${allocatedStorage}), got ${maxAllocatedStorage}`);
  const promoted = r.bool(K('database.promoted'), db.promoted, dd.promoted);
  if (promoted && role !== 'secondary') r.fail(K('database.promoted'), 'applies only to role secondary (it drops the read-replica relationship)');
  return {
    engineVersion,
    parameterGroupFamily,
    instanceClass,
    allocatedStorage,
    maxAllocatedStorage,
    multiAz: r.bool(K('database.multiAz'), db.multiAz, dd.multiAz),
    backupRetentionDays: r.int(K('database.backupRetentionDays'), db.backupRetentionDays, dd.backupRetentionDays, 7, 35, 'days (point-in-time recovery window)'),
    deletionProtection: role === 'scratch' ? false : r.bool(K('database.deletionProtection'), db.deletionProtection, dd.deletionProtection),
    promoted,
    promotedMultiAz: r.bool(K('database.promotedMultiAz'), db.promotedMultiAz, dd.promotedMultiAz),
    dbName: r.pattern(K('database.dbName'), r.str(K('database.dbName'), db.dbName), /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/, 'a PostgreSQL database name (letter first, letters/digits/_)') ?? dd.dbName,
    masterUsername:
      r.pattern(K('database.masterUsername'), r.str(K('database.masterUsername'), db.masterUsername), /^(?!rdsadmin$|postgres$)[a-zA-Z][a-zA-Z0-9_]{0,62}$/, 'a user name (letter first, not rdsadmin/postgres)') ??
      dd.masterUsername,
    backupWindow: r.pattern(K('database.backupWindow'), r.str(K('database.backupWindow'), db.backupWindow), WINDOW, 'a UTC window hh:mm-hh:mm') ?? dd.backupWindow,
    maintenanceWindow:
      r.pattern(K('database.maintenanceWindow'), r.str(K('database.maintenanceWindow'), db.maintenanceWindow), WEEKLY_WINDOW, 'a UTC window ddd:hh:mm-ddd:hh:mm') ?? dd.maintenanceWindow,
  };
}

/**
 * `cache`: engine, node type, replicas, global datastore (not on burstable nodes, never for scratch), snapshots, and the
 * datastore generation / `detached` that `dr failover` sets after an unplanned failover (docs/infra-notes.md).
 */
function readCache(r: Reader, role: Role): CacheConfig {
  const c = r.object('cache', CONFIG_KEYS.cache.fields);
  const dc = DEFAULTS.cache;
  const cache: CacheConfig = {
    engineVersion: r.pattern(K('cache.engineVersion'), r.str(K('cache.engineVersion'), c.engineVersion), /^[67]\.\d+$/, 'a Redis 6.x/7.x version like 7.1') ?? dc.engineVersion,
    nodeType: r.pattern(K('cache.nodeType'), r.str(K('cache.nodeType'), c.nodeType), /^cache\.[a-z0-9]+\.[a-z0-9]+$/, 'an ElastiCache node type like cache.r7g.large') ?? dc.nodeType,
    replicas: r.int(K('cache.replicas'), c.replicas, dc.replicas, 0, 5, 'replicas'),
    globalDatastore: r.bool(K('cache.globalDatastore'), c.globalDatastore, dc.globalDatastore),
    snapshotRetentionDays: r.int(K('cache.snapshotRetentionDays'), c.snapshotRetentionDays, dc.snapshotRetentionDays, 0, 35, 'days'),
    snapshotWindow: r.pattern(K('cache.snapshotWindow'), r.str(K('cache.snapshotWindow'), c.snapshotWindow), WINDOW, 'a UTC window hh:mm-hh:mm') ?? dc.snapshotWindow,
    globalDatastoreGeneration: r.int(K('cache.globalDatastoreGeneration'), c.globalDatastoreGeneration, dc.globalDatastoreGeneration, 1, 99),
    detached: r.bool(K('cache.detached'), c.detached, dc.detached),
  };
  if (cache.detached) {
    if (role !== 'secondary') r.fail(K('cache.detached'), 'applies only to role secondary: the survivor whose member group left the global datastore in an unplanned failover (dr failover sets it)');
    else if (!cache.globalDatastore) r.fail(K('cache.detached'), 'needs cache.globalDatastore true: it makes this stack create the next global datastore from its group');
    else if (cache.globalDatastoreGeneration < 2) {
      r.fail(K('cache.globalDatastoreGeneration'), `must be 2 or more with cache.detached (generation 1 is the datastore the group left; dr failover sets the next one), got ${cache.globalDatastoreGeneration}`);
    }
  }
  if (cache.globalDatastore && /^cache\.t\d/.test(cache.nodeType)) {
    r.fail(K('cache.nodeType'), `global datastores do not support burstable ${cache.nodeType}; use an m- or r-class node (e.g. cache.r7g.large) or set cache.globalDatastore false`);
  }
  if (cache.globalDatastore && role === 'scratch') r.fail(K('cache.globalDatastore'), 'must be false for a scratch stack (a drill must not join the production global datastore)');
  return cache;
}

/** `backup`: tier retention per service, config days, optional Object Lock (no tier shorter than the lock), replication. */
function readBackup(r: Reader, role: Role): BackupConfig {
  const b = r.object('backup', CONFIG_KEYS.backup.fields);
  const objectLock = readObjectLock(r, b.objectLock);
  const backup: BackupConfig = {
    postgresql: readTiers(r, b, 'postgresql'),
    redis: readTiers(r, b, 'redis'),
    configDays: r.int(K('backup.configDays'), b.configDays, DEFAULTS.backup.configDays, 1, 36500, 'days'),
    objectLock,
    replicateToPeer: role === 'scratch' ? false : r.bool(K('backup.replicateToPeer'), b.replicateToPeer, DEFAULTS.backup.replicateToPeer),
    job: readBackupJob(r, b),
  };
  if (objectLock) {
    for (const svc of ['postgresql', 'redis'] as const) {
      for (const tier of ['daily', 'weekly', 'monthly'] as const) {
        if (backup[svc][tier] < objectLock.days) {
          r.fail(K(`backup.${svc}.${tier}`), `(${backup[svc][tier]} days) is shorter than backup.objectLock.days (${objectLock.days}); lifecycle expiry cannot delete locked versions — raise it or lower the lock`);
        }
      }
    }
  }
  return backup;
}

/**
 * `backup.runner` and the job's size: the runner first (the other fields' ranges depend on it), then each field
 * within that runner's limits, then whether `backup.expectedDatabaseGb` fits (lib/backup-runner.ts).
 */
function readBackupJob(r: Reader, b: Record<string, unknown>): BackupJobConfig {
  const runnerRaw = r.str(K('backup.runner'), b.runner) ?? DEFAULTS.backup.runner;
  let runner: BackupRunner = 'lambda';
  if ((BACKUP_RUNNERS as readonly string[]).includes(runnerRaw)) runner = runnerRaw as BackupRunner;
  else r.fail(K('backup.runner'), `unknown runner ${JSON.stringify(runnerRaw)}; allowed: ${BACKUP_RUNNERS.join(' | ')}`);
  const d = RUNNER_DEFAULTS[runner];
  const lim = RUNNER_LIMITS[runner];
  const job: BackupJobConfig = {
    runner,
    expectedDatabaseGb: b.expectedDatabaseGb === undefined ? undefined : r.int(K('backup.expectedDatabaseGb'), b.expectedDatabaseGb, 1, 1, 65536, 'GB'),
    memoryMb: d.memoryMb,
    cpu: d.cpu,
    timeoutSeconds: r.int(K('backup.timeoutSeconds'), b.timeoutSeconds, d.timeoutSeconds, lim.minTimeoutSeconds, lim.maxTimeoutSeconds, `seconds on ${runner}`),
    ephemeralStorageGb: r.int(K('backup.ephemeralStorageGb'), b.ephemeralStorageGb, d.ephemeralStorageGb, lim.minStorageGb, lim.maxStorageGb, `GB on ${runner}`),
    restoreTestJobs: r.int(K('backup.restoreTestJobs'), b.restoreTestJobs, DEFAULTS.backup.restoreTestJobs, 1, 16, 'jobs'),
  };
  if (runner === 'lambda') {
    job.memoryMb = r.int(K('backup.memoryMb'), b.memoryMb, d.memoryMb, RUNNER_LIMITS.lambda.minMemoryMb, RUNNER_LIMITS.lambda.maxMemoryMb, 'MB on lambda');
    if (b.cpu !== undefined) r.fail(K('backup.cpu'), 'applies only to backup.runner fargate (a Lambda gets CPU in proportion to backup.memoryMb)');
  } else {
    job.cpu = r.int(K('backup.cpu'), b.cpu, d.cpu, 256, 16384, 'CPU units');
    const size = FARGATE_SIZES[job.cpu];
    if (b.cpu !== undefined && !size) r.fail(K('backup.cpu'), `must be one of ${Object.keys(FARGATE_SIZES).join(', ')} (Fargate CPU units), got ${JSON.stringify(b.cpu)}`);
    const memDefault = size ? Math.max(size.min, Math.min(size.max, d.memoryMb)) : d.memoryMb;
    job.memoryMb = r.int(K('backup.memoryMb'), b.memoryMb, memDefault, 512, 122880, 'MiB on fargate');
    if (size && (job.memoryMb < size.min || job.memoryMb > size.max || (job.memoryMb - size.min) % size.step !== 0)) {
      r.fail(K('backup.memoryMb'), `${job.memoryMb} MiB is not a Fargate size for backup.cpu ${job.cpu}: ${size.min}–${size.max} MiB in steps of ${size.step}`);
    }
  }
  for (const p of runnerFitProblems(job)) r.fail(K(`backup.${p.field}`), p.message);
  return job;
}

/** `backup.<svc>`: `{ daily, weekly, monthly }` in days. */
function readTiers(r: Reader, b: Record<string, unknown>, svc: 'postgresql' | 'redis'): TierRetentionDays {
  const full = K(`backup.${svc}`);
  const v = b[svc];
  if (v !== undefined && !isPlainObject(v)) {
    r.fail(full, 'must be an object { daily, weekly, monthly } in days');
    return { ...DEFAULTS.backup[svc] };
  }
  const o = (v ?? {}) as Record<string, unknown>;
  r.unknownFields(full, o, ['daily', 'weekly', 'monthly']);
  const d = DEFAULTS.backup[svc];
  return {
    daily: r.int(`${full}.daily`, o.daily, d.daily, 1, 36500, 'days'),
    weekly: r.int(`${full}.weekly`, o.weekly, d.weekly, 1, 36500, 'days'),
    monthly: r.int(`${full}.monthly`, o.monthly, d.monthly, 1, 36500, 'days'),
  };
}

/** `backup.objectLock`: `{ mode: GOVERNANCE | COMPLIANCE, days }`, or undefined when unset (or not an object). */
function readObjectLock(r: Reader, v: unknown): BackupConfig['objectLock'] {
  if (v === undefined) return undefined;
  const full = K('backup.objectLock');
  if (!isPlainObject(v)) {
    r.fail(full, 'must be an object { mode: GOVERNANCE | COMPLIANCE, days }');
    return undefined;
  }
  r.unknownFields(full, v, ['mode', 'days']);
  const mode = v.mode;
  if (typeof mode !== 'string' || !(OBJECT_LOCK_MODES as readonly string[]).includes(mode)) r.fail(`${full}.mode`, `must be ${OBJECT_LOCK_MODES.join(' | ')}, got ${JSON.stringify(mode)}`);
  if (v.days === undefined) r.fail(`${full}.days`, 'is required with backup.objectLock (1–36500 days)');
  const days = r.int(`${full}.days`, v.days, 1, 1, 36500, 'days');
  return { mode: (mode as ObjectLockMode) ?? 'GOVERNANCE', days };
}

/** `peerStack` is required where the stack reads the peer's outputs (checked after backup: replication needs it). */
function checkPeerStack(r: Reader, role: Role, peerStack: string | undefined, backup: BackupConfig): void {
  if (peerStack || r.raw(K('peerStack')) !== undefined) return;
  if (role === 'secondary') r.fail(K('peerStack'), 'is required for role secondary: the primary stack (org/project/stack) whose DB it replicates');
  else if (role === 'primary' && backup.replicateToPeer) {
    r.fail(K('peerStack'), 'is required for role primary while backup.replicateToPeer is true (first deploy: set backup.replicateToPeer false, deploy the secondary, then enable it)');
  }
}

const BOT_TOKENS_SHAPE = 'must be an object: bot name → list of tokens (set with `pulumi config set --secret --path botTokens.<bot>[0] <token>`)';
const BOTS_SHAPE = 'must be a list of bot names, or an object: bot name → { platform, channels, webhookUrl, mode, permissions } (set with `pulumi config set --path bots.<bot>.platform discord`)';

/** One entry of `bots` before validation: the bot's name, the key its settings are named under, its settings. */
interface BotEntry {
  name: string;
  key: string;
  settings: Record<string, unknown>;
}

/**
 * `bots` in either form: the plain list of names (`[community, moderation]`, or a comma-separated string), or the
 * object form, bot name → `{ platform, channels, webhookUrl, mode, permissions }` (an empty or null value takes the defaults).
 */
function readBotEntries(r: Reader): BotEntry[] {
  const raw = r.raw(K('bots'));
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = raw.split(',').map((s) => s.trim()).filter(Boolean);
  }
  if (Array.isArray(parsed)) {
    const out: BotEntry[] = [];
    parsed.forEach((v, i) => {
      if (typeof v === 'string') out.push({ name: v, key: K(`bots.${v}`), settings: {} });
      else r.fail(K(`bots[${i}]`), `must be a bot name; to give a bot settings use the object form instead of the list: ${BOTS_SHAPE.replace(/^must be a list of bot names, or /, '')}`);
    });
    return out;
  }
  if (!isPlainObject(parsed)) {
    r.fail(K('bots'), BOTS_SHAPE);
    return [];
  }
  return Object.entries(parsed).map(([name, s]) => {
    const key = K(`bots.${name}`);
    if (s === null || s === undefined || s === '') return { name, key, settings: {} };
    if (!isPlainObject(s)) {
      r.fail(key, `must be an object { ${CONFIG_KEYS.bots.fields.join(', ')} } (or empty for the defaults)`);
      return { name, key, settings: {} };
    }
    return { name, key, settings: s };
  });
}

/** `bots.<bot>.channels`: chat or channel ids of the bot's platform (numbers are accepted when they are exact). */
function readChannels(r: Reader, key: string, v: unknown, platform: BotPlatform): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    r.fail(key, `must be a list of ${PLATFORM_CHANNEL_RULE[platform]}s`);
    return [];
  }
  const out: string[] = [];
  v.forEach((c, i) => {
    let id: string | undefined;
    if (typeof c === 'string') id = c.trim();
    else if (typeof c === 'number' && Number.isSafeInteger(c)) id = String(c);
    else if (typeof c === 'number') r.fail(`${key}[${i}]`, `${c} is not an exact integer (ids longer than 15 digits, e.g. Discord snowflakes, must be quoted as strings)`);
    else r.fail(`${key}[${i}]`, `must be ${PLATFORM_CHANNEL_RULE[platform]}, got ${JSON.stringify(c)}`);
    if (id === undefined) return;
    if (!isChannelId(platform, id)) r.fail(`${key}[${i}]`, `must be ${PLATFORM_CHANNEL_RULE[platform]}, got ${JSON.stringify(id)}`);
    else if (out.includes(id)) r.fail(`${key}[${i}]`, `${JSON.stringify(id)} is listed twice`);
    else out.push(id);
  });
  return out;
}

/** `bots.<bot>.mode`: webhook (default) or polling. */
function readBotMode(r: Reader, key: string, v: unknown): BotMode {
  if (v === undefined || v === null || v === '') return DEFAULTS.bot.mode;
  if (isBotMode(v)) return v;
  r.fail(key, `must be ${BOT_MODES.join(' | ')}, got ${JSON.stringify(v)}`);
  return DEFAULTS.bot.mode;
}

/** `bots.<bot>.permissions` (Discord only): PermissionFlagsBits names, default the four a bot posting files needs. */
function readPermissions(r: Reader, key: string, v: unknown, platform: BotPlatform): string[] {
  if (v === undefined || v === null) return platform === 'discord' ? [...DEFAULTS.bot.permissions] : [];
  if (platform !== 'discord') {
    r.fail(key, "applies to Discord bots only (a Telegram bot's rights follow the chat type: a channel needs Post messages and Delete messages, a group Delete messages)");
    return [];
  }
  if (!Array.isArray(v) || v.length === 0) {
    r.fail(key, 'must be a non-empty list of Discord permission names (PermissionFlagsBits, e.g. [ViewChannel, SendMessages, AttachFiles])');
    return [...DEFAULTS.bot.permissions];
  }
  const out: string[] = [];
  v.forEach((n, i) => {
    if (!isDiscordPermissionName(n)) r.fail(`${key}[${i}]`, `must be a Discord permission name as in PermissionFlagsBits (e.g. ViewChannel, SendMessages, AttachFiles, ManageMessages), got ${JSON.stringify(n)}`);
    else if (out.includes(n)) r.fail(`${key}[${i}]`, `${n} is listed twice`);
    else out.push(n);
  });
  return out;
}

/** A Telegram webhook bot without a webhookUrl gets the failover record's default (when the stack has DNS). */
function withDefaultWebhook<T extends Pick<BotConfig, 'name' | 'platform' | 'mode' | 'webhookUrl' | 'webhookUrlDefaulted'>>(b: T, dns: Pick<DnsConfig, 'recordName'> | undefined): T {
  if (b.platform !== 'telegram' || b.mode !== 'webhook' || b.webhookUrl !== undefined || !dns?.recordName) return b;
  return { ...b, webhookUrl: defaultTelegramWebhookUrl(dns.recordName, b.name), webhookUrlDefaulted: true };
}

/** A bot's settings (`bots.<bot>`): platform (default telegram), channels, mode, an https webhook URL (never echoed), Discord permissions. */
function readBotSettings(r: Reader, e: BotEntry): Pick<BotConfig, 'platform' | 'channels' | 'webhookUrl' | 'mode' | 'permissions'> {
  r.unknownFields(e.key, e.settings, CONFIG_KEYS.bots.fields);
  const p = e.settings.platform;
  let platform: BotPlatform = DEFAULTS.bot.platform;
  if (p !== undefined && p !== null && p !== '') {
    if (isBotPlatform(p)) platform = p;
    else r.fail(`${e.key}.platform`, `must be ${BOT_PLATFORMS.join(' | ')}, got ${JSON.stringify(p)}`);
  }
  const channels = readChannels(r, `${e.key}.channels`, e.settings.channels, platform);
  const w = e.settings.webhookUrl;
  let webhookUrl: string | undefined;
  if (w !== undefined && w !== null && w !== '') {
    // Never echo the URL: webhooks often embed a secret in the path.
    if (typeof w === 'string' && isHttpsUrl(w)) webhookUrl = w;
    else r.fail(`${e.key}.webhookUrl`, 'must be an https:// URL');
  }
  const mode = readBotMode(r, `${e.key}.mode`, e.settings.mode);
  if (mode === 'polling' && webhookUrl !== undefined) {
    r.fail(`${e.key}.webhookUrl`, `a polling bot has no webhook (${platform === 'telegram' ? 'getUpdates answers 409 while one is set' : 'it uses the gateway only'}): remove webhookUrl, or set ${e.key.replace(/^[^:]+:/, '')}.mode webhook`);
    webhookUrl = undefined;
  }
  const permissions = readPermissions(r, `${e.key}.permissions`, e.settings.permissions, platform);
  return { platform, channels, mode, permissions, ...(webhookUrl !== undefined ? { webhookUrl } : {}) };
}

/**
 * `bots` and `botTokens`. The bot list (names, platform, channels, webhook) is not secret and may be declared on
 * BOTH stacks: each region runs a token monitor over it. The bot-token SECRETS belong to the ACTIVE stack: the
 * primary creates them (seeding each from `botTokens`) and replicates them to the peer region; a secondary promoted
 * by a failover (`database.promoted: true`) adopts the promoted replicas in its region with the Pulumi `import`
 * option, by name, and needs no token (after creation a secret's value belongs to the token engine). So `botTokens`
 * is required for every bot of a primary (and scratch), optional on a promoted secondary, and refused on a secondary
 * that is not promoted: it holds the active stack's replicas under the same names.
 */
function readBots(r: Reader, role: Role, promoted: boolean): BotConfig[] {
  const entries = readBotEntries(r);
  let tokenMap = readTokenMap(r);
  if (role === 'secondary' && !promoted && Object.keys(tokenMap).length > 0) {
    r.fail(
      K('botTokens'),
      'must not be set on a secondary that is not promoted: only the active stack (role primary, or a secondary with database.promoted=true after a failover) declares the bot-token secrets, seeded from botTokens, and replicates them to this region under the same names; keep the non-secret bots list here (this region\'s token monitor reads it) and remove botTokens (the secrets are retained, never deleted by a config change)',
    );
    tokenMap = {};
  }
  const bots: BotConfig[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const { name } = e;
    if (!isBotName(name)) r.fail(K('bots'), `bot name ${JSON.stringify(name)} must be ${BOT_NAME_RULE}`);
    if (seen.has(name)) r.fail(K('bots'), `bot name ${JSON.stringify(name)} is listed twice`);
    if (role === 'secondary' && isAdoptionAmbiguousBotName(name)) {
      r.fail(
        K('bots'),
        `bot name ${JSON.stringify(name)} ends with a hyphen and six characters, which Secrets Manager may read as an ARN suffix, so a secondary (its token monitor, and once promoted its adoption of the secret) cannot find its secret by name; adopt it by ARN instead (pulumi import aws:secretsmanager/secret:Secret ... <arn>, docs/infra-notes.md)`,
      );
    }
    seen.add(name);
    const settings = readBotSettings(r, e);
    bots.push({ name, ...settings, ...readBotTokens(r, name, tokenMap[name], settings.platform, role !== 'secondary') });
  }
  for (const name of Object.keys(tokenMap)) {
    if (!seen.has(name)) r.fail(K(`botTokens.${name}`), `has tokens for a bot that is not in bot-platform-dr:bots (${[...seen].join(', ') || 'none'})`);
  }
  return bots;
}

/** A bot's settings without its tokens: what the CLI reads from a stack settings file (`dr bots`, `dr status`). */
export type BotSettings = Omit<BotConfig, 'tokens' | 'tokenCount'>;

/**
 * Only the bots' settings of a stack (names, platform, channels, mode, webhook URL with its DNS default, Discord
 * permissions), with the problems of those keys: for commands that read a `Pulumi.<stack>.yaml` whose secrets they
 * cannot (and need not) decrypt. `botTokens` is not read.
 */
export function readBotsSettings(src: ConfigSource): { bots: BotSettings[]; problems: ConfigProblem[] } {
  const r = new Reader(src);
  const bots: BotSettings[] = [];
  for (const e of readBotEntries(r)) {
    if (!isBotName(e.name)) {
      r.fail(K('bots'), `bot name ${JSON.stringify(e.name)} must be ${BOT_NAME_RULE}`);
      continue;
    }
    if (bots.some((b) => b.name === e.name)) continue;
    bots.push({ name: e.name, ...readBotSettings(r, e) });
  }
  const d = r.object('dns', CONFIG_KEYS.dns.fields);
  const recordName = typeof d.recordName === 'string' && HOSTNAME_PATTERN.test(d.recordName) ? d.recordName : undefined;
  return { bots: bots.map((b) => withDefaultWebhook(b, recordName ? { recordName } : undefined)), problems: r.problems.filter((p) => p.key.startsWith(K('bots'))) };
}

/** `botTokens`: bot name → tokens, or {} (a problem when it is not an object; the value is never echoed: it is secret). */
function readTokenMap(r: Reader): Record<string, unknown> {
  const tokensRaw = r.raw(K('botTokens'));
  if (tokensRaw === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(tokensRaw);
    if (isPlainObject(parsed)) return parsed;
    r.fail(K('botTokens'), BOT_TOKENS_SHAPE);
  } catch {
    // Never echo the value: it is secret.
    r.fail(K('botTokens'), BOT_TOKENS_SHAPE);
  }
  return {};
}

/**
 * One bot's tokens (`botTokens.<bot>`: one token or a list; none empty, each shaped like its platform's tokens), as
 * a secret Output. `required`: at least one (the stack creates the secret and seeds it). Problems name the token's
 * key (`botTokens.<bot>[i]`) and the rule, never the value.
 */
function readBotTokens(r: Reader, name: string, t: unknown, platform: BotPlatform, required: boolean): Pick<BotConfig, 'tokens' | 'tokenCount'> {
  if (t === undefined && !required) return { tokens: pulumi.secret<string[]>([]), tokenCount: 0 };
  const single = typeof t === 'string';
  const list: unknown[] = single ? [t] : Array.isArray(t) ? t : [];
  const tokens = list.filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  if (tokens.length === 0) {
    r.fail(K(`botTokens.${name}`), `bot ${JSON.stringify(name)} has no token; set at least one with \`pulumi config set --secret --path 'botTokens.${name}[0]' <token>\``);
  } else if (tokens.length !== list.length) {
    r.fail(K(`botTokens.${name}`), 'every token must be a non-empty string');
  }
  list.forEach((x, i) => {
    if (typeof x === 'string' && x.trim() !== '' && !isPlatformToken(platform, x)) {
      // Never echo the value: it is secret (and the key says which one it is).
      r.fail(K(single ? `botTokens.${name}` : `botTokens.${name}[${i}]`), `must be ${PLATFORM_TOKEN_RULE[platform]} (bot ${name} runs on ${platform}); the value is not shown`);
    }
  });
  return { tokens: pulumi.secret(tokens), tokenCount: tokens.length };
}

/** `dns`: the failover record; absent when no dns.* key is set, and always for scratch. */
function readDns(r: Reader, role: Role): DnsConfig | undefined {
  const d = r.object('dns', CONFIG_KEYS.dns.fields);
  if (Object.keys(d).length === 0 || role === 'scratch') return undefined;
  const hostedZoneId = r.pattern(K('dns.hostedZoneId'), r.str(K('dns.hostedZoneId'), d.hostedZoneId), /^Z[A-Z0-9]{1,31}$/, 'a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ');
  if (d.hostedZoneId === undefined) r.fail(K('dns.hostedZoneId'), 'is required when any dns.* key is set: the Route 53 hosted zone id holding dns.recordName');
  const recordName = r.pattern(K('dns.recordName'), r.str(K('dns.recordName'), d.recordName), HOSTNAME_PATTERN, 'a DNS name like bot.example.com');
  if (d.recordName === undefined) r.fail(K('dns.recordName'), 'is required with dns: the failover record name, e.g. bot.example.com');
  const endpoint = r.pattern(K('dns.endpoint'), r.str(K('dns.endpoint'), d.endpoint), HOSTNAME_PATTERN, "a hostname (this region's application endpoint, no scheme)");
  if (d.endpoint === undefined) r.fail(K('dns.endpoint'), "is required with dns: this region's application endpoint hostname");
  const healthCheckPath = r.pattern(K('dns.healthCheckPath'), r.str(K('dns.healthCheckPath'), d.healthCheckPath), /^\/[^\s]*$/, 'a path starting with /') ?? DEFAULTS.dns.healthCheckPath;
  return {
    hostedZoneId: hostedZoneId ?? '',
    recordName: recordName ?? '',
    endpoint: endpoint ?? '',
    healthCheckPath,
    healthCheckPort: r.int(K('dns.healthCheckPort'), d.healthCheckPort, DEFAULTS.dns.healthCheckPort, 1, 65535),
    ttl: r.int(K('dns.ttl'), d.ttl, DEFAULTS.dns.ttl, 1, 86400, 'seconds'),
  };
}

/** `alerts`: e-mail subscribers, an optional https webhook (never echoed), the replica-lag threshold. */
function readAlerts(r: Reader): AlertsConfig {
  const a = r.object('alerts', CONFIG_KEYS.alerts.fields);
  const emails = r.stringList(K('alerts.emails'), a.emails);
  for (const e of emails) if (!isEmailAddress(e)) r.fail(K('alerts.emails'), `${JSON.stringify(e)} is not a valid email address`);
  const webhookUrl = r.str(K('alerts.webhookUrl'), a.webhookUrl);
  // Never echo the URL: webhooks often embed a secret in the path.
  if (webhookUrl !== undefined && !isHttpsUrl(webhookUrl)) r.fail(K('alerts.webhookUrl'), 'must be an https:// URL');
  return {
    emails,
    webhookUrl,
    replicaLagSeconds: r.int(K('alerts.replicaLagSeconds'), a.replicaLagSeconds, DEFAULTS.alerts.replicaLagSeconds, 1, 86400, 'seconds'),
    escalation: readEscalationLevels(r, a.escalation),
  };
}

const PHONE = /^\+[0-9][0-9 ]{6,19}$/;

/** `alerts.escalation`: a list of `{ level, who, contact, afterMinutes, severities? }`, levels 1… in order. */
function readEscalationLevels(r: Reader, v: unknown): EscalationLevel[] {
  const full = K('alerts.escalation');
  if (v === undefined || v === null || v === '') return [];
  if (!Array.isArray(v) || v.length > 10) {
    r.fail(full, 'must be a list (at most 10) of { level, who, contact, afterMinutes, severities? }');
    return [];
  }
  const out: EscalationLevel[] = [];
  v.forEach((x: unknown, i) => {
    const at = `${full}[${i}]`;
    if (!isPlainObject(x)) return void r.fail(at, 'must be { level, who, contact, afterMinutes, severities? }');
    r.unknownFields(at, x, ['level', 'who', 'contact', 'afterMinutes', 'severities']);
    const level = r.int(`${at}.level`, x.level, i + 1, 1, 10);
    if (level !== i + 1) r.fail(`${at}.level`, `must be ${i + 1}: levels are numbered 1, 2, 3 … in order`);
    const who = r.str(`${at}.who`, x.who);
    if (!who || who.length > 80) r.fail(`${at}.who`, 'is required: who is called (a role, at most 80 characters)');
    const contact = r.str(`${at}.contact`, x.contact);
    // A contact is shown by `dr runbook`: an address, a URL or a number, never free text (and never echoed back).
    if (!contact || !(isEmailAddress(contact) || isHttpsUrl(contact) || PHONE.test(contact))) r.fail(`${at}.contact`, 'must be an email address, an https:// URL or a phone number (+ and digits)');
    const afterMinutes = r.int(`${at}.afterMinutes`, x.afterMinutes, 0, 0, 10080, 'minutes');
    if (i === 0 && afterMinutes !== 0) r.fail(`${at}.afterMinutes`, 'must be 0 for the first level (it is called when the incident opens)');
    if (out.length && afterMinutes < out[out.length - 1].afterMinutes) r.fail(`${at}.afterMinutes`, `must not be before the previous level's (${out[out.length - 1].afterMinutes})`);
    const sev = x.severities === undefined ? [...SEVERITIES] : r.stringList(`${at}.severities`, x.severities);
    for (const s of sev) if (!(SEVERITIES as readonly string[]).includes(s)) r.fail(`${at}.severities`, `${JSON.stringify(s)} is not one of ${SEVERITIES.join(', ')}`);
    out.push({ level, who: who ?? '', contact: contact ?? '', afterMinutes, severities: sev.filter((s): s is Severity => (SEVERITIES as readonly string[]).includes(s)) });
  });
  return out;
}

/**
 * The escalation matrix of one stack's config alone (`dr runbook` reads it from `Pulumi.<stack>.yaml` without
 * validating the rest of the stack): the levels, and the problems found (each naming its key).
 */
export function readEscalation(src: ConfigSource): { levels: EscalationLevel[]; problems: ConfigProblem[] } {
  const r = new Reader(src);
  const a = r.object('alerts', CONFIG_KEYS.alerts.fields);
  const levels = readEscalationLevels(r, a.escalation);
  return { levels, problems: r.problems.filter((p) => p.key.startsWith(K('alerts.escalation'))) };
}

/** `scratch`: the restore source of a drill (role scratch only). */
function readScratch(r: Reader, role: Role): ScratchConfig | undefined {
  const s = r.object('scratch', CONFIG_KEYS.scratch.fields);
  if (role !== 'scratch') {
    if (Object.keys(s).length > 0) r.fail(K('scratch'), 'applies only to role scratch');
    return undefined;
  }
  const from = r.str(K('scratch.restoreFrom'), s.restoreFrom);
  const sourceDbIdentifier = r.pattern(K('scratch.sourceDbIdentifier'), r.str(K('scratch.sourceDbIdentifier'), s.sourceDbIdentifier), /^[a-z][a-z0-9-]{0,62}$/, 'an RDS DB identifier');
  if (from === 'latest-snapshot') {
    const snapshotIdentifier = r.str(K('scratch.snapshotIdentifier'), s.snapshotIdentifier);
    if (!snapshotIdentifier && !sourceDbIdentifier) r.fail(K('scratch.sourceDbIdentifier'), 'is required for restoreFrom latest-snapshot unless scratch.snapshotIdentifier is given');
    if (s.restoreTime !== undefined) r.fail(K('scratch.restoreTime'), 'applies only to restoreFrom point-in-time');
    return { restoreFrom: 'latest-snapshot', sourceDbIdentifier, snapshotIdentifier };
  }
  if (from === 'point-in-time') return readPointInTime(r, s, sourceDbIdentifier);
  r.fail(K('scratch.restoreFrom'), `${from === undefined ? 'is required for role scratch' : `unknown value ${JSON.stringify(from)}`}; allowed: ${RESTORE_SOURCES.join(' | ')}`);
  return undefined;
}

/** `scratch` with `restoreFrom: point-in-time`: a restore time (or the latest), from a DB or replicated automated backups. */
function readPointInTime(r: Reader, s: Record<string, unknown>, sourceDbIdentifier: string | undefined): ScratchConfig {
  const restoreTimeRaw = r.str(K('scratch.restoreTime'), s.restoreTime);
  let restoreTime: string | undefined;
  if (restoreTimeRaw !== undefined && restoreTimeRaw !== 'latest') {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(restoreTimeRaw) || Number.isNaN(Date.parse(restoreTimeRaw))) {
      r.fail(K('scratch.restoreTime'), `must be an ISO-8601 time with zone, e.g. 2024-05-01T12:00:00Z, or "latest"; got ${JSON.stringify(restoreTimeRaw)}`);
    } else restoreTime = new Date(restoreTimeRaw).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  const arn = r.pattern(K('scratch.sourceDbAutomatedBackupsArn'), r.str(K('scratch.sourceDbAutomatedBackupsArn'), s.sourceDbAutomatedBackupsArn), /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:auto-backup:.+$/, 'an RDS automated-backups ARN (arn:aws:rds:<region>:<account>:auto-backup:ab-...)');
  if (!sourceDbIdentifier && !arn) r.fail(K('scratch.sourceDbIdentifier'), 'is required for restoreFrom point-in-time (or give scratch.sourceDbAutomatedBackupsArn)');
  if (sourceDbIdentifier && arn) r.fail(K('scratch.sourceDbAutomatedBackupsArn'), 'give either scratch.sourceDbIdentifier or scratch.sourceDbAutomatedBackupsArn, not both');
  if (s.snapshotIdentifier !== undefined) r.fail(K('scratch.snapshotIdentifier'), 'applies only to restoreFrom latest-snapshot');
  return { restoreFrom: 'point-in-time', restoreTime, sourceDbIdentifier, sourceDbAutomatedBackupsArn: arn };
}

/** `tags`: free-form string → string (key ≤ 128, value ≤ 256, no `aws:` prefix). */
function readTags(r: Reader): Record<string, string> {
  const tags: Record<string, string> = {};
  const t = r.object('tags', []);
  // r.object flagged every field as unknown; tags are free-form, so re-validate instead.
  r.problems.splice(0, r.problems.length, ...r.problems.filter((p) => !p.key.startsWith(K('tags.'))));
  for (const [k, v] of Object.entries(t)) {
    if (typeof v !== 'string' || k.length > 128 || v.length > 256 || k.startsWith('aws:')) r.fail(K(`tags.${k}`), 'tags are string → string (key ≤ 128, value ≤ 256, no aws: prefix)');
    else tags[k] = v;
  }
  return tags;
}
