/**
 * Bot readiness: each bot has at least two healthy tokens (the active one and one to switch to), probed from the
 * region that would take over; (AWS) its webhook / interactions endpoint is registered and error-free, no token
 * lacks a right in the configured channels, and Discord's session-start budget is not exhausted.
 */
import { READINESS_LIMITS } from '../../../lib/readiness';
import { ageSeconds, byEnv, define, duration, fail, notObserved, observed, pass, warn, type CheckContext, type Outcome } from './common';
import { isUnobserved, type BotView, type TokenProbeView } from '../ports';

const res = (b: BotView) => `bot ${b.bot} (${b.platform})`;

function tokenFix(ctx: CheckContext, b: BotView, bad: number[]): string {
  const which = bad.length ? `token${bad.length > 1 ? 's' : ''} ${bad.join(', ')}` : 'a new token';
  return byEnv(ctx, {
    aws: `issue a new token (${b.platform === 'telegram' ? '@BotFather /token' : 'Discord developer portal → Bot → Reset Token'}) and replace ${which} in the bot's secret (its tokens list; dr tokens status shows each token's state)`,
    local: `restore ${which} on the fake ${b.platform} API (the platform control: restore) or replace it in tokens.json; dr tokens status --local`,
  });
}

export const tokens = define({
  name: 'bots.tokens',
  area: 'bots',
  environments: ['aws', 'local'],
  rules: { pass: 'at least 2 healthy tokens, none bad', warn: 'at least 2 healthy but another is bad, or too few known healthy because of rate limits', fail: 'fewer than 2 healthy tokens' },
  run(o, ctx) {
    return o.bots.map((b) => {
      const r = observed(b.tokens, res(b), byEnv(ctx, { aws: `check secretsmanager:GetSecretValue on the bot's secret in ${b.from}`, local: 'dr status --local (are the fake platforms running?)' }));
      if ('outcome' in r) return r.outcome;
      const t: TokenProbeView[] = r.value;
      const healthy = t.filter((x) => x.state === 'healthy').map((x) => x.index);
      const limited = t.filter((x) => x.state === 'rate-limited').map((x) => x.index);
      const bad = t.filter((x) => x.state !== 'healthy' && x.state !== 'rate-limited');
      const badText = bad.map((x) => `token ${x.index} ${x.state}${x.detail ? ` (${x.detail})` : ''}`).join(', ');
      const min = READINESS_LIMITS.minHealthyTokens;
      const summary = `${healthy.length} of ${t.length} tokens healthy from ${b.from}`;
      if (healthy.length >= min) return bad.length ? warn(res(b), `${summary}; ${badText}`, tokenFix(ctx, b, bad.map((x) => x.index))) : pass(res(b), `${summary} (active ${b.active ?? '?'})`);
      if (healthy.length + limited.length >= min) return warn(res(b), `${summary}; token(s) ${limited.join(', ')} rate-limited (not known)${bad.length ? `; ${badText}` : ''}`, 'run dr readiness again after the retry_after');
      return fail(res(b), `${summary}: a bot needs ${min} (the active one and one to switch to)${badText ? `; ${badText}` : ''}`, tokenFix(ctx, b, bad.map((x) => x.index)));
    });
  },
});

export const webhook = define({
  name: 'bots.webhook',
  area: 'bots',
  environments: ['aws'],
  rules: { pass: 'the expected webhook / interactions endpoint is registered with no delivery error in the last hour', warn: 'one is registered where none is expected, or not observed', fail: 'the expected one is not registered, or a recent delivery error' },
  run(o, ctx) {
    return o.bots.map((b): Outcome => {
      const what = b.platform === 'telegram' ? 'webhook' : 'interactions endpoint';
      const fix = b.platform === 'telegram' ? "register it again: setWebhook with the bot's URL and its secret_token, then getWebhookInfo (last_error_message says why deliveries fail)" : 'PATCH /applications/@me interactions_endpoint_url with the bot\'s URL (Discord sends a signed PING to verify it)';
      const r = observed(b.webhook, res(b), fix);
      if ('outcome' in r) return r.outcome;
      const w = r.value;
      if (w.expected === false) return w.url ? warn(res(b), `a ${what} is set but the bot is not configured with one${b.platform === 'telegram' ? ' (getUpdates answers 409 while it is)' : ''}`, b.platform === 'telegram' ? 'deleteWebhook, or configure bots.<bot>.webhookUrl' : 'clear interactions_endpoint_url, or configure bots.<bot>.webhookUrl') : pass(res(b), `no ${what}, as configured`);
      if (!w.url) return w.expected === true ? fail(res(b), `no ${what} is registered: updates reach nobody`, fix) : warn(res(b), `no ${what} registered; whether one is expected is not known`, 'run dr readiness where it can read the stack config');
      if (w.lastErrorAt && ageSeconds(w.lastErrorAt, ctx.now) < READINESS_LIMITS.webhookErrorWindowSeconds) {
        return fail(res(b), `the ${what} had a delivery error ${duration(ageSeconds(w.lastErrorAt, ctx.now))} ago${w.lastErrorMessage ? `: ${w.lastErrorMessage}` : ''}${w.pending ? `; ${w.pending} updates pending` : ''}`, fix);
      }
      return pass(res(b), `${what} registered${w.pending ? `, ${w.pending} updates pending` : ''}, no delivery error in the last hour`);
    });
  },
});

export const permissions = define({
  name: 'bots.permissions',
  area: 'bots',
  environments: ['aws'],
  rules: { pass: 'every token has every right in every configured channel', warn: 'a channel could not be checked for a token', fail: 'a token lacks a right in a channel' },
  run(o) {
    return o.bots.map((b): Outcome => {
      const fix = b.platform === 'telegram' ? "make the token's bot an administrator of the channel with the rights it needs (can_post_messages in channels), or drop that token" : "grant the token's bot the permissions in the channel (its role or the channel's overwrites: View Channel, Send Messages, Attach Files, Read Message History), or drop that token";
      const r = observed(b.permissions, res(b), fix);
      if ('outcome' in r) return r.outcome;
      const p = r.value;
      if (p.channels === 0) return pass(res(b), 'no channels configured to check');
      if (p.missing.length) return fail(res(b), p.missing.map((m) => `token ${m.index} lacks ${m.missing.join(', ')} in ${m.channel}`).join('; '), fix);
      if (p.errors.length) return warn(res(b), p.errors.map((e) => `token ${e.index} in ${e.channel}: ${e.detail}`).join('; '), 'see bots.tokens for the token; otherwise check the channel id in bots.<bot>.channels');
      return pass(res(b), `every token has every right in ${p.channels} channel${p.channels === 1 ? '' : 's'}`);
    });
  },
});

export const discordSessions = define({
  name: 'bots.discord-sessions',
  area: 'bots',
  environments: ['aws'],
  rules: { pass: 'session_start_limit.remaining is at least 10 % of total', warn: 'below 10 %, or not reported', fail: '0 left: the bot cannot connect to the gateway until the reset (and too many IDENTIFYs make Discord reset the token)' },
  run(o) {
    const discord = o.bots.filter((b) => b.platform === 'discord');
    if (!discord.length) return [pass('discord', 'no Discord bot')];
    return discord.map((b): Outcome => {
      const fix = 'stop the shards that reconnect in a loop (both regions consuming the same token?); the limit resets after reset_after';
      if (isUnobserved(b.tokens)) return notObserved(res(b), b.tokens, fix);
      const s = b.tokens.find((t) => t.index === b.active)?.sessionStart ?? b.tokens.find((t) => t.sessionStart)?.sessionStart;
      if (!s) return warn(res(b), 'GET /gateway/bot reported no session_start_limit (the token is not healthy?)', 'see bots.tokens');
      const text = `${s.remaining} of ${s.total} session starts left, reset in ${duration(s.resetAfterMs / 1000)}`;
      if (s.remaining <= 0) return fail(res(b), text, fix);
      if (s.remaining < s.total * READINESS_LIMITS.sessionStartWarnShare) return warn(res(b), text, fix);
      return pass(res(b), text);
    });
  },
});

export const BOT_CHECKS = [tokens, webhook, permissions, discordSessions];
