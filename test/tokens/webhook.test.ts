/**
 * The pure webhook rules: the secret_token helper, the default URL, Telegram's drift reasons (url, a pinned or stale
 * IP judged against DNS only, an error in the last 5 minutes on the injected clock, a growing backlog) and the
 * Discord interactions endpoint comparison.
 */
import assert from 'node:assert/strict';
import { UsageError } from '../../automation/core/errors';
import { registerSecret } from '../../automation/core/redact';
import { assertWebhookSecret, defaultWebhookUrl, interactionsDrift, newWebhookSecret, sameUrl, webhookDrift, WEBHOOK_SECRET_PATTERN, type WebhookInfoView } from '../../automation/tokens';

const NOW = new Date('2026-11-22T10:00:00Z');
const T = NOW.getTime() / 1000;
const URL_A = 'https://bots.example.org/telegram/community';

function info(o: Partial<WebhookInfoView> = {}): WebhookInfoView {
  return { url: URL_A, pending_update_count: 0, has_custom_certificate: false, ...o };
}

describe('tokens: webhook secret_token and default URL', () => {
  it('a new secret is 43 characters of A-Za-z0-9_-, different each time; the random source is injectable', () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    assert.match(a, WEBHOOK_SECRET_PATTERN);
    assert.equal(a.length, 43);
    assert.notEqual(a, b);
    const fixed = newWebhookSecret((n) => new Uint8Array(n).fill(251));
    assert.equal(fixed, '-_v7'.repeat(10) + '-_s');
    assert.throws(() => newWebhookSecret(() => new Uint8Array(4)), UsageError);
  });

  it('assertWebhookSecret accepts 1–256 of the alphabet and never quotes the value it refuses', () => {
    assertWebhookSecret('a');
    assertWebhookSecret('x'.repeat(256));
    assertWebhookSecret('A-z_09');
    const bad = 'not/allowed+secret=value';
    for (const s of ['', 'x'.repeat(257), bad, 'spa ce']) {
      assert.throws(
        () => assertWebhookSecret(s),
        (e: Error) => e instanceof UsageError && !e.message.includes(bad) && /1–256 characters/.test(e.message),
      );
    }
  });

  it('defaultWebhookUrl is https://<recordName>/telegram/<bot>', () => {
    assert.equal(defaultWebhookUrl('Bots.Example.org.', 'community'), URL_A);
    assert.throws(() => defaultWebhookUrl('localhost', 'community'), UsageError);
    assert.throws(() => defaultWebhookUrl('bots.example.org', 'a/b'), UsageError);
  });

  it('sameUrl compares parsed hrefs (host case, default port), and strings that do not parse exactly', () => {
    assert.ok(sameUrl('https://Bots.example.org:443/telegram/community', URL_A));
    assert.ok(!sameUrl(`${URL_A}/`, URL_A));
    assert.ok(sameUrl('', undefined));
    assert.ok(!sameUrl('', URL_A));
    assert.ok(!sameUrl('not a url', 'not a  url'));
  });
});

describe('tokens: webhookDrift (Telegram getWebhookInfo)', () => {
  it('no drift: the expected URL, no error, no growth, the IP the host resolves to', () => {
    const d = webhookDrift({ expectedUrl: URL_A, info: info({ ip_address: '203.0.113.7', pending_update_count: 3 }), now: NOW, previousPending: 3, resolvedIps: ['203.0.113.7'] });
    assert.deepEqual(d, { drifted: false, reset: false, reasons: [], details: [], ipChecked: true });
  });

  it('url-mismatch: another region, no webhook, or a webhook on a polling bot (expected "")', () => {
    const other = webhookDrift({ expectedUrl: URL_A, info: info({ url: 'https://a.bots.example.org/telegram/community' }), now: NOW });
    assert.deepEqual([other.drifted, other.reset, other.reasons], [true, true, ['url-mismatch']]);
    assert.match(other.details[0], /points at https:\/\/a\.bots/);
    assert.match(webhookDrift({ expectedUrl: URL_A, info: info({ url: '' }), now: NOW }).details[0], /no webhook is set/);
    const polling = webhookDrift({ expectedUrl: '', info: info(), now: NOW });
    assert.deepEqual(polling.reasons, ['url-mismatch']);
    assert.match(polling.details[0], /the bot polls: getUpdates answers 409/);
    assert.equal(webhookDrift({ expectedUrl: '', info: info({ url: '' }), now: NOW }).drifted, false);
  });

  it('ip-pinned only against a DNS answer: ip_address is reported for every webhook, pinned or not', () => {
    const unjudged = webhookDrift({ expectedUrl: URL_A, info: info({ ip_address: '198.51.100.1' }), now: NOW });
    assert.deepEqual([unjudged.drifted, unjudged.ipChecked], [false, false]);
    const pinned = webhookDrift({ expectedUrl: URL_A, info: info({ ip_address: '198.51.100.1' }), now: NOW, resolvedIps: ['203.0.113.7', '203.0.113.8'] });
    assert.deepEqual([pinned.drifted, pinned.reset, pinned.reasons, pinned.ipChecked], [true, true, ['ip-pinned'], true]);
    assert.match(pinned.details[0], /198\.51\.100\.1, which the webhook host does not resolve to \(203\.0\.113\.7, 203\.0\.113\.8\)/);
  });

  it('recent-error: last_error_date within 5 minutes of the injected clock (299 s yes, 300 s no); not a reset', () => {
    const recent = webhookDrift({ expectedUrl: URL_A, info: info({ last_error_date: T - 299, last_error_message: 'Wrong response from the webhook: 502 Bad Gateway' }), now: NOW });
    assert.deepEqual([recent.drifted, recent.reset, recent.reasons, recent.lastErrorAgeS], [true, false, ['recent-error'], 299]);
    assert.match(recent.details[0], /299 s ago: Wrong response from the webhook: 502 Bad Gateway/);
    const old = webhookDrift({ expectedUrl: URL_A, info: info({ last_error_date: T - 300 }), now: NOW });
    assert.deepEqual([old.drifted, old.lastErrorAgeS], [false, 300]);
    assert.equal(webhookDrift({ expectedUrl: URL_A, info: info({ last_error_date: T - 30 }), now: NOW, errorWindowMs: 10_000 }).drifted, false);
  });

  it('pending-growing: above the previous observation only (the first observation cannot tell)', () => {
    assert.deepEqual(webhookDrift({ expectedUrl: URL_A, info: info({ pending_update_count: 12 }), now: NOW, previousPending: 5 }).reasons, ['pending-growing']);
    assert.equal(webhookDrift({ expectedUrl: URL_A, info: info({ pending_update_count: 12 }), now: NOW }).drifted, false);
    assert.equal(webhookDrift({ expectedUrl: URL_A, info: info({ pending_update_count: 4 }), now: NOW, previousPending: 5 }).drifted, false);
  });

  it('every reason at once, details redacted (a token in a registered URL path is not repeated)', () => {
    const token = '1234567:AAplantedTokenInAWebhookPath0000000';
    registerSecret(token);
    const d = webhookDrift({ expectedUrl: URL_A, info: info({ url: `https://old.example.org/${token}`, ip_address: '10.0.0.1', last_error_date: T - 10, pending_update_count: 9 }), now: NOW, previousPending: 1, resolvedIps: ['203.0.113.7'] });
    assert.deepEqual(d.reasons, ['url-mismatch', 'ip-pinned', 'recent-error', 'pending-growing']);
    assert.ok(!JSON.stringify(d).includes(token));
  });
});

describe('tokens: interactionsDrift (Discord interactions_endpoint_url)', () => {
  const E = 'https://bots.example.org/discord/interactions';
  it('unset, another URL, the same URL, and an endpoint where none is expected', () => {
    assert.deepEqual(interactionsDrift(E, null).reason, 'unset');
    assert.deepEqual(interactionsDrift(E, undefined).reason, 'unset');
    assert.deepEqual(interactionsDrift(E, 'https://a.example.org/discord/interactions').reason, 'url-mismatch');
    assert.deepEqual(interactionsDrift(E, 'https://BOTS.example.org/discord/interactions'), { drifted: false });
    assert.deepEqual(interactionsDrift(null, null), { drifted: false });
    assert.deepEqual(interactionsDrift(null, E).reason, 'unexpected');
  });
});
