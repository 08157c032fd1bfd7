/**
 * The local environment's token monitor: the same engine as the `token-monitor` Lambda (`runTokenCheck`, compare-
 * and-set on the token store), run every `intervalMs` (1 s locally, where the Lambda runs every minute) against the
 * fake Telegram and Discord APIs, writing its decisions to the environment's token file and its notices to the
 * token notices log (the local stand-in for SNS).
 *
 * Issue 11, as the Lambda does: every token's channel rights (the rehearsal bots' settings,
 * adapters/rehearsal/bot-settings.ts) before the first run and every `rightsEveryRuns` runs after, so a switch
 * prefers a token with every right; after every run each bot's webhook / interactions endpoint, set on drift and
 * after each switch (locally both bots poll, so a webhook that appears is deleted).
 */
import { setMaxListeners } from 'node:events';
import { TokenNoticeLog } from '../adapters/tools/token-notice-log';
import { TokenFileStore } from '../adapters/tools/token-file-store';
import { botTokenProber } from '../adapters/bots/index';
import type { LocalState } from '../adapters/rehearsal/state';
import { REHEARSAL_BOTS } from '../adapters/rehearsal/state';
import { sleep, systemClock } from '../core/clock';
import { UsageError } from '../core/errors';
import { rehearsalEndpointSpecs, REHEARSAL_BOT_SETTINGS } from '../adapters/rehearsal/bot-settings';
import { checkBotEndpoints, switchedBots, type BotEndpointReport } from '../ops/bot-endpoints';
import { botChannelsOf, checkBotPermissions, type PermissionReport } from '../ops/bot-permissions';
import { rightsMaps, runTokenCheck, type RightsMap, type TokenCheckReport, type TokenNotice, type TokenNotifier } from '../tokens/index';

export interface TokenMonitorOptions {
  state: LocalState;
  /** Between runs (default 1 s). */
  intervalMs?: number;
  signal?: AbortSignal;
  /** After every run (the drill watches the switches). */
  onRun?: (report: TokenCheckReport, at: number) => void;
  /** Every notice (switch, alert, platform-degraded), besides the notices log. */
  onNotice?: (n: TokenNotice) => void;
  /** Re-check the channel rights every this many runs (default 10; 0: never, and no rights at all). */
  rightsEveryRuns?: number;
  /** After every rights check. */
  onRights?: (report: PermissionReport, at: number) => void;
  /** After every endpoint check. */
  onEndpoints?: (reports: BotEndpointReport[], at: number) => void;
}

/** The platform API base URLs of the environment's fakes. */
export function localPlatformUrls(state: LocalState): { telegram: string; discord: string } {
  if (!state.platform) throw new UsageError(`the local environment in ${state.dir} has no bot tier (it was made before the bots were added): run 'dr local down' and 'dr local up'`);
  return { telegram: `http://127.0.0.1:${state.platform.telegram_port}`, discord: `http://127.0.0.1:${state.platform.discord_port}/api` };
}

/** The environment's token store (tokens.json under an exclusive lock, compare-and-set). */
export function localTokenStore(state: LocalState): TokenFileStore {
  if (!state.tokens_file) throw new UsageError(`the local environment in ${state.dir} has no bot tokens file: run 'dr local down' and 'dr local up'`);
  return new TokenFileStore({ file: state.tokens_file });
}

/** Run the monitor until `signal` aborts. */
export async function runTokenMonitor(o: TokenMonitorOptions): Promise<void> {
  const urls = localPlatformUrls(o.state);
  const store = localTokenStore(o.state);
  const prober = botTokenProber({ telegram: { apiRoot: urls.telegram, timeoutMs: 2000 }, discord: { api: urls.discord, timeoutMs: 2000 } });
  const platforms = { telegram: { apiRoot: urls.telegram, timeoutMs: 2000 }, discord: { api: urls.discord, timeoutMs: 2000 } };
  const log = new TokenNoticeLog(o.state.token_notices_log ?? `${o.state.tokens_file}.notifications.log`);
  const notifier: TokenNotifier = {
    notify: async (n) => {
      o.onNotice?.(n);
      await log.notify(n);
    },
  };
  const interval = o.intervalMs ?? 1000;
  const every = o.rightsEveryRuns ?? 10;
  let rights: Record<string, RightsMap> | undefined;
  const previousPending: Record<string, number> = {};
  for (let n = 0; !o.signal?.aborted; n++) {
    // One run's own signal, linked to the caller's: the probes' abort listeners go with the run, not pile up.
    const run = new AbortController();
    // grammy adds an abort listener per call and the rights check makes a few dozen calls in one run; the run's
    // signal is dropped after it, so this is not a leak (without it Node warns MaxListenersExceeded).
    setMaxListeners(200, run.signal);
    const stop = () => run.abort();
    o.signal?.addEventListener('abort', stop, { once: true });
    if (every > 0 && n % every === 0) {
      const r = await checkBotPermissions({ bots: botChannelsOf(REHEARSAL_BOT_SETTINGS), store, ...platforms, clock: systemClock, signal: run.signal }).catch(() => undefined);
      if (r) {
        rights = rightsMaps(r.matrix);
        o.onRights?.(r, Date.now());
      }
    }
    const report = await runTokenCheck({ bots: REHEARSAL_BOTS.map((b) => b.name), store, prober, notifier, clock: systemClock, apply: true, actor: 'monitor@local', ...(rights ? { rights } : {}), signal: run.signal }).catch(() => undefined);
    if (report) o.onRun?.(report, Date.now());
    const endpoints = await checkBotEndpoints({ bots: rehearsalEndpointSpecs(), store, apply: true, force: report ? switchedBots(report.bots) : undefined, previousPending, ...platforms, clock: systemClock, signal: run.signal }).catch(() => undefined);
    for (const e of endpoints ?? []) if (e.pending_update_count !== undefined) previousPending[e.bot] = e.pending_update_count;
    if (endpoints) o.onEndpoints?.(endpoints, Date.now());
    o.signal?.removeEventListener('abort', stop);
    await sleep(interval, o.signal).catch(() => undefined);
  }
}
