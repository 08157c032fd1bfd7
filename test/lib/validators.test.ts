import { strict as assert } from 'node:assert';
import * as aws from '@pulumi/aws';
import { validateAlertsArgs } from '../../components/alerts';
import { validateBotTokensArgs } from '../../components/bot-tokens';
import { validateFailoverDnsArgs } from '../../components/failover-dns';
import { ConfigError, loadConfig, mapConfigSource } from '../../lib/config';
import { runProgram } from '../helpers/pulumi';
import { BOT_NAME_RULE, isAdoptionAmbiguousBotName, isBotName, isEmailAddress, isHostname, isHttpsUrl } from '../../lib/validators';

const P = 'bot-platform-dr';
const BASE = {
  [`${P}:role`]: 'primary',
  'aws:region': 'us-east-1',
  [`${P}:peerRegion`]: 'us-west-2',
  [`${P}:peerStack`]: 'acme/bot-platform-dr/secondary',
};

/** The problem keys loadConfig reports for `over` (none when it loads). */
function configProblems(over: Record<string, unknown>): string[] {
  try {
    loadConfig(mapConfigSource({ ...BASE, ...over }));
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems.map((p) => p.key);
  }
}

const throws = (fn: () => void): boolean => {
  try {
    fn();
    return false;
  } catch {
    return true;
  }
};

// The components' validators never use the provider; a real one (declared under the mocks) keeps the args typed.
let provider: aws.Provider;

const BOT_NAMES: [string, boolean][] = [
  ['community', true],
  ['mod-bot', true],
  ['a', true],
  ['7', true],
  ['bot2', true],
  ['a'.repeat(40), true],
  ['a'.repeat(41), false],
  ['', false],
  ['Community', false],
  ['chess_bot', false],
  ['-bot', false],
  ['bot-', false],
  ['has space', false],
  ['bot/x', false],
];

const HOSTNAMES: [string, boolean][] = [
  ['bot.example.com', true],
  ['bot.example.com.', true],
  ['BOT-use1.Example.COM', true],
  ['a.b.c.example.io', true],
  ['example', false],
  ['https://bot.example.com', false],
  ['bot.example.com/path', false],
  ['bot.example.com:443', false],
  ['-bot.example.com', false],
  ['bot-.example.com', false],
  ['bot..example.com', false],
  ['bot.example.c0m', false],
  [`${'a'.repeat(64)}.example.com`, false],
  ['has space.example.com', false],
];

const EMAILS: [string, boolean][] = [
  ['oncall@example.com', true],
  ['first.last+dr@sub.example.org', true],
  ['x@y.z', true],
  ['nope', false],
  ['a@b', false],
  ['@example.com', false],
  ['ops@', false],
  ['two@at@example.com', false],
  ['sp ace@example.com', false],
];

const URLS: [string, boolean][] = [
  ['https://hooks.example.com/x', true],
  ['https://hooks.example.com:8443/a?b=c', true],
  ['http://hooks.example.com/x', false],
  ['hooks.example.com/x', false],
  ['https://', false],
  ['https://a b', false],
  ['ftp://example.com', false],
];

describe('lib/validators: one set of rules for config and components', () => {
  before(async () => {
    await runProgram(() => {
      provider = new aws.Provider('validators', { region: 'us-east-1' });
    });
  });

  describe('bot names', () => {
    for (const [name, ok] of BOT_NAMES) {
      it(`${JSON.stringify(name)} is ${ok ? 'valid' : 'refused'} by the rule, the config and BotTokens alike`, () => {
        assert.equal(isBotName(name), ok);
        const fromConfig = configProblems({ [`${P}:bots`]: [name], [`${P}:botTokens`]: { [name]: ['111:TOKEN'] } });
        assert.equal(!fromConfig.includes(`${P}:bots`), ok, `config: ${fromConfig.join(', ')}`);
        const refused = throws(() => validateBotTokensArgs({ provider, kmsKeyArn: 'k', namePrefix: 'botdr', bots: [{ name, tokens: ['t'] }] }));
        assert.equal(!refused, ok, 'BotTokens');
      });
    }
    it('both messages state the rule', () => {
      assert.throws(() => validateBotTokensArgs({ provider, kmsKeyArn: 'k', namePrefix: 'botdr', bots: [{ name: 'Bad_Name', tokens: ['t'] }] }), (e: Error) => e.message.includes(BOT_NAME_RULE) && /bots\[0\]\.name/.test(e.message));
      try {
        loadConfig(mapConfigSource({ ...BASE, [`${P}:bots`]: ['Bad_Name'], [`${P}:botTokens`]: { Bad_Name: ['t'] } }));
        assert.fail('expected a ConfigError');
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        assert.ok(e.problems.some((p) => p.key === `${P}:bots` && p.message.includes(BOT_NAME_RULE)), e.message);
      }
    });
    it('names ending like an ARN suffix are ambiguous for adoption by name', () => {
      assert.equal(isAdoptionAmbiguousBotName('chess-helper'), true);
      assert.equal(isAdoptionAmbiguousBotName('bot-abc123'), true);
      assert.equal(isAdoptionAmbiguousBotName('community'), false);
      assert.equal(isAdoptionAmbiguousBotName('mod-bot'), false);
      assert.equal(isAdoptionAmbiguousBotName('chesshelper'), false);
    });
  });

  describe('hostnames', () => {
    for (const [name, ok] of HOSTNAMES) {
      it(`${JSON.stringify(name)} is ${ok ? 'valid' : 'refused'} by the rule, the config and FailoverDns alike`, () => {
        assert.equal(isHostname(name), ok);
        const dns = (recordName: string, endpoint: string) => ({ [`${P}:dns`]: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName, endpoint } });
        assert.equal(!configProblems(dns(name, 'app.example.net')).includes(`${P}:dns.recordName`), ok, 'config recordName');
        assert.equal(!configProblems(dns('bot.example.net', name)).includes(`${P}:dns.endpoint`), ok, 'config endpoint');
        const component = (recordName: string, endpoint: string) => () => validateFailoverDnsArgs({ provider, role: 'primary', region: 'us-east-1', hostedZoneId: 'Z1', recordName, endpoint });
        assert.equal(!throws(component(name, 'app.example.net')), ok, 'FailoverDns recordName');
        assert.equal(!throws(component('bot.example.net', name)), ok, 'FailoverDns endpoint');
      });
    }
  });

  describe('e-mail addresses', () => {
    for (const [address, ok] of EMAILS) {
      it(`${JSON.stringify(address)} is ${ok ? 'valid' : 'refused'} by the rule, the config and Alerts alike`, () => {
        assert.equal(isEmailAddress(address), ok);
        assert.equal(!configProblems({ [`${P}:alerts`]: { emails: [address] } }).includes(`${P}:alerts.emails`), ok, 'config');
        const refused = throws(() => validateAlertsArgs({ provider, region: 'us-east-1', role: 'primary', namePrefix: 'botdr', kmsKeyArn: 'k', emails: [address] }));
        assert.equal(!refused, ok, 'Alerts');
      });
    }
  });

  describe('webhook URLs', () => {
    for (const [url, ok] of URLS) {
      it(`${JSON.stringify(url)} is ${ok ? 'valid' : 'refused'} by the rule, the config and Alerts alike`, () => {
        assert.equal(isHttpsUrl(url), ok);
        assert.equal(!configProblems({ [`${P}:alerts`]: { webhookUrl: url } }).includes(`${P}:alerts.webhookUrl`), ok, 'config');
        const refused = throws(() => validateAlertsArgs({ provider, region: 'us-east-1', role: 'primary', namePrefix: 'botdr', kmsKeyArn: 'k', emails: [], webhookUrl: url }));
        assert.equal(!refused, ok, 'Alerts');
      });
    }
  });
});
