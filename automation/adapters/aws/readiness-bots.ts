/**
 * The bots area of the AWS readiness observer: every bot's record read from its secret in the region the bots are
 * probed from (the Lambda's own region, or — from the operator's machine — the standby's: the replica there is what
 * the bots read after a failover), every token probed, the webhook / interactions endpoint and the channel rights
 * (adapters/bots/readiness.ts). Secrets Manager requests count as AWS calls, platform requests as platform calls.
 */
import { observeBot } from '../bots/readiness';
import type { BotsObservation } from '../../readiness';
import type { AwsReadiness, Orientation } from './readiness-observer';
import { SecretsTokenStore } from './token-store';
import { secretArnInRegion } from './topology';

export async function observeAwsBots(r: AwsReadiness, or: Orientation): Promise<BotsObservation> {
  const from = r.o.from ?? or.standby.region;
  const prober = r.prober;
  const bots = r.o.targets.bots;
  const ids = new Map(bots.map((b) => [b.bot, b.secret.startsWith('arn:') ? secretArnInRegion(b.secret, from) : b.secret]));
  const store = new SecretsTokenStore({
    client: r.counted('bots', r.o.clients.secretsManager(from)),
    region: from,
    secretId: (bot) => ids.get(bot) ?? bot,
    platformOf: (bot) => bots.find((b) => b.bot === bot)?.platform,
    clock: r.clock,
    retry: { attempts: 3 },
  });
  const platformChecks = { telegram: { apiRoot: r.o.apis?.telegram }, discord: { api: r.o.apis?.discord } };
  const views = [];
  for (const b of bots) {
    views.push(
      await observeBot(
        { bot: b.bot, platform: b.platform, from, channels: b.channels, ...(b.webhook !== undefined ? { webhook: b.webhook } : {}) },
        { read: async () => (await store.read(b.bot)).record, prober, platformChecks, count: (n) => r.count('bots', n, 'platform') },
      ),
    );
  }
  return { bots: views };
}
