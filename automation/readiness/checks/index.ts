/** Every readiness check, in report order (area by area). */
import { BACKUP_CHECKS } from './backups';
import { BOT_CHECKS } from './bots';
import { CACHE_CHECKS } from './cache';
import { CERTIFICATE_CHECKS } from './certificates';
import type { CheckDefinition } from './common';
import { DATABASE_CHECKS } from './database';
import { DNS_CHECKS } from './dns';
import { JOB_CHECKS } from './jobs';
import { SECRET_CHECKS } from './secrets';

export type { CheckContext, CheckDefinition, Outcome } from './common';
export { classRank } from './database';

export const CHECKS: readonly CheckDefinition[] = [...DATABASE_CHECKS, ...CACHE_CHECKS, ...BACKUP_CHECKS, ...SECRET_CHECKS, ...DNS_CHECKS, ...BOT_CHECKS, ...CERTIFICATE_CHECKS, ...JOB_CHECKS] as unknown as readonly CheckDefinition[];
