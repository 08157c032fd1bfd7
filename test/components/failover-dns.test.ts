import { failoverSetIdentifier } from '../../components/failover-dns';
import { registration } from '../helpers/registrations';
import { P, RoleRun, runStack } from '../helpers/stacks';
import assert from 'node:assert/strict';
import * as aws from '@pulumi/aws';
import { FailoverDns, FailoverDnsArgs } from '../../components/failover-dns';
import { ProgramRun, runProgram, runProgramExpectingError } from '../helpers/pulumi';

function build(extra: Partial<FailoverDnsArgs> = {}) {
  return () => {
    const provider = new aws.Provider('use1', { region: 'us-east-1' });
    const d = new FailoverDns('acme-dns', {
      provider,
      role: 'primary',
      region: 'us-east-1',
      hostedZoneId: 'Z0123456789ABC',
      recordName: 'bot.example.com',
      endpoint: 'bot-use1.example.com',
      healthCheckPath: '/health',
      ...extra,
    });
    return { healthCheckId: d.healthCheckId, recordName: d.recordName };
  };
}

describe('components/FailoverDns', () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(build());
  });

  it('health-checks the region endpoint over HTTPS every 10 s, failing after 3', () => {
    const hc = run.one('aws:route53/healthCheck:HealthCheck').inputs;
    assert.equal(hc.type, 'HTTPS');
    assert.equal(hc.fqdn, 'bot-use1.example.com');
    assert.equal(hc.port, 443);
    assert.equal(hc.resourcePath, '/health');
    assert.equal(hc.requestInterval, 10);
    assert.equal(hc.failureThreshold, 3);
    assert.equal(hc.measureLatency, true);
    assert.equal(hc.enableSni, true);
  });

  it('publishes a PRIMARY failover CNAME carrying the health check, TTL 60 by default', () => {
    const rec = run.one('aws:route53/record:Record').inputs;
    const hc = run.one('aws:route53/healthCheck:HealthCheck');
    assert.deepEqual(rec.failoverRoutingPolicies, [{ type: 'PRIMARY' }]);
    assert.equal(rec.healthCheckId, hc.id);
    assert.equal(rec.ttl, 60);
    assert.equal(rec.type, 'CNAME');
    assert.deepEqual(rec.records, ['bot-use1.example.com']);
    assert.equal(rec.zoneId, 'Z0123456789ABC');
    assert.equal(rec.name, 'bot.example.com');
    assert.ok(rec.setIdentifier);
    assert.equal(run.outputs.healthCheckId, hc.id);
  });

  it('is SECONDARY for the secondary role, with its own set identifier and the configured TTL', async () => {
    const r = await runProgram(build({ role: 'secondary', region: 'us-west-2', endpoint: 'bot-usw2.example.com', ttl: 30 }));
    const rec = r.one('aws:route53/record:Record').inputs;
    assert.deepEqual(rec.failoverRoutingPolicies, [{ type: 'SECONDARY' }]);
    assert.equal(rec.ttl, 30);
    const r2 = await runProgram(build({ healthCheckPort: 8443 }));
    assert.equal(r2.one('aws:route53/healthCheck:HealthCheck').inputs.port, 8443);
    assert.notEqual(rec.setIdentifier, run.one('aws:route53/record:Record').inputs.setIdentifier);
  });

  for (const [what, extra, re] of [
    ['the scratch role', { role: 'scratch' }, /role: failover DNS exists only/],
    ['an endpoint with a scheme', { endpoint: 'https://bot.example.com' }, /dns\.endpoint/],
    ['a record pointing at itself', { endpoint: 'bot.example.com' }, /dns\.endpoint: must differ/],
    ['port 0', { healthCheckPort: 0 }, /dns\.healthCheckPort/],
    ['a negative TTL', { ttl: -1 }, /dns\.ttl/],
    ['a relative health path', { healthCheckPath: 'health' }, /dns\.healthCheckPath/],
    ['two checker regions', { healthCheckRegions: ['us-east-1', 'eu-west-1'] }, /dns\.healthCheckRegions/],
  ] as const) {
    it(`refuses ${what} before declaring anything`, async () => {
      const { error, resources } = await runProgramExpectingError(build(extra as any));
      assert.match(error.message, re);
      assert.equal(resources.filter((r) => r.type.startsWith('aws:route53')).length, 0);
    });
  }

  describe('convergence with the failover (docs/route53-control-plane.md)', () => {
    const REC = 'aws:route53/record:Record';
    const declared = (r: RoleRun) => {
      const rec = r.one(REC);
      return { inputs: rec.plainInputs, reg: registration(r.regs, rec.name) };
    };

    it('set identifier is the region alone; the failover type is ignored after creation; replacement deletes first', async () => {
      const p = declared(await runStack('primary'));
      const s = declared(await runStack('secondary'));
      assert.equal(p.inputs.setIdentifier, 'us-east-1');
      assert.equal(s.inputs.setIdentifier, 'us-west-2');
      assert.equal(failoverSetIdentifier('eu-west-1'), 'eu-west-1');
      for (const d of [p, s]) {
        assert.deepEqual(d.reg.ignoreChanges, ['failoverRoutingPolicies']);
        assert.equal(d.reg.deleteBeforeReplace, true);
      }
    });

    it('after a failover, neither re-targeted stack declares a record that differs in anything but the (ignored) type', async function () {
      this.timeout(60_000);
      const before = { a: declared(await runStack('primary')), b: declared(await runStack('secondary')) };
      // Survivor: secondary promoted. Lost: the primary stack re-targeted to secondary (bots move to the survivor).
      const survivor = declared(await runStack('secondary', { [`${P}:database`]: { promoted: true } }));
      const lost = declared(
        await runStack('primary', {
          [`${P}:role`]: 'secondary',
          [`${P}:peerStack`]: 'acme/bot-platform-dr/secondary',
          [`${P}:bots`]: undefined,
          [`${P}:botTokens`]: undefined,
        }),
      );
      const noType = (d: ReturnType<typeof declared>) => {
        const { failoverRoutingPolicies: _t, ...rest } = d.inputs;
        void _t;
        return rest;
      };
      assert.deepEqual(noType(survivor), noType(before.b), 'the promoted survivor keeps its record (no replace, no value change)');
      assert.deepEqual(noType(lost), noType(before.a), 'the re-targeted old primary keeps its record (no replace, no value change)');
      // The type its config would say differs from what dr set — which is why it is ignored.
      assert.deepEqual(lost.inputs.failoverRoutingPolicies, [{ type: 'SECONDARY' }]);
      assert.deepEqual(lost.reg.ignoreChanges, ['failoverRoutingPolicies']);
    });
  });
});
