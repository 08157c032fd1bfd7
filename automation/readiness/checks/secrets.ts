/**
 * Secrets readiness. AWS: every replicated secret (DB credentials, cache auth token, bot tokens) has an `InSync`
 * replica in the peer region under a customer key of that region, and both regions' KMS keys are enabled. Local:
 * every file holding a credential is private (0600, directories 0700 or 0711).
 */
import { isUnobserved } from '../ports';
import { define, fail, notObserved, observed, pass, warn, type Outcome } from './common';

const isArn = (s: string) => s.startsWith('arn:');

export const replicas = define({
  name: 'secrets.replicas',
  area: 'secrets',
  environments: ['aws'],
  rules: { pass: "the peer region's replica is InSync under a customer key in that region", warn: 'replication in progress', fail: 'no replica, Failed, the AWS-managed key, or the serving copy is itself a read-only replica' },
  run(o) {
    const r = observed(o.replicas, 'secrets', 'check secretsmanager:DescribeSecret on the secrets and that the serving region answers');
    if ('outcome' in r) return [r.outcome];
    const out: Outcome[] = [];
    for (const s of r.value) {
      if (isUnobserved(s)) {
        out.push(notObserved(s.label, s, 'check secretsmanager:DescribeSecret on it and that the serving region answers'));
        continue;
      }
      const res = `${s.region}/${s.label}`;
      const addFix = `aws secretsmanager replicate-secret-to-regions --secret-id ${s.secret} --region ${s.region} --add-replica-regions Region=${s.peerRegion},KmsKeyId=<the ${s.peerRegion} key>; after a failover dr failback re-creates the replicas`;
      if (s.primaryRegion) {
        out.push(fail(res, `the serving region's copy is a read-only replica of ${s.primaryRegion}: it was not promoted`, 'dr failover --resume (its promote-secrets step makes the survivor\'s replicas writable)'));
        continue;
      }
      const rep = s.replication.find((x) => x.region === s.peerRegion);
      if (!rep) {
        out.push(fail(res, `not replicated to ${s.peerRegion}${s.replication.length ? ` (only to ${s.replication.map((x) => x.region).join(', ')})` : ''}: it is lost with ${s.region}`, addFix));
        continue;
      }
      if (rep.status === 'InProgress') out.push(warn(res, `the replica in ${s.peerRegion} is still being created`, 'wait a minute and run dr readiness again'));
      else if (rep.status !== 'InSync') out.push(fail(res, `the replica in ${s.peerRegion} is ${rep.status}${rep.message ? `: ${rep.message}` : ''}`, addFix));
      else if (!rep.kmsKeyId || /alias\/aws\/secretsmanager$/.test(rep.kmsKeyId)) out.push(fail(res, `the replica in ${s.peerRegion} is encrypted with the AWS-managed key, not the stack's key there`, addFix));
      else if (isArn(rep.kmsKeyId) && rep.kmsKeyId.split(':')[3] !== s.peerRegion) out.push(fail(res, `the replica in ${s.peerRegion} names a key in ${rep.kmsKeyId.split(':')[3]}`, addFix));
      else out.push(pass(res, `InSync in ${s.peerRegion} under ${rep.kmsKeyId}`));
    }
    return out.length ? out : [fail('secrets', 'no replicated secret was found to check', 'check the stacks output dbSecretArn and cacheAuthSecretArn')];
  },
});

export const kmsKeys = define({
  name: 'secrets.kms-keys',
  area: 'secrets',
  environments: ['aws'],
  rules: { pass: 'both regions\' keys are Enabled', warn: 'a key in another state (e.g. Updating), or not observed', fail: 'Disabled or PendingDeletion' },
  run(o) {
    const fix = 'aws kms enable-key --key-id <key> (Disabled) or aws kms cancel-key-deletion --key-id <key> (PendingDeletion), in its region';
    const r = observed(o.keys, 'kms keys', 'add @aws-sdk/client-kms to the dr image to observe KeyState (kms:DescribeKey on both keys)');
    if ('outcome' in r) return [r.outcome];
    return r.value.map((k) => {
      const res = `${k.region}/${k.keyId}`;
      if (k.state === 'Enabled') return pass(res, 'Enabled');
      if (k.state === 'Disabled' || k.state === 'PendingDeletion' || k.state === 'PendingReplicaDeletion') return fail(res, `${k.state}: everything encrypted with it (database, backups, secrets) becomes unreadable`, fix);
      return warn(res, k.state, fix);
    });
  },
});

export const fileModes = define({
  name: 'secrets.file-modes',
  area: 'secrets',
  environments: ['local'],
  rules: { pass: 'every credential file is 0600 (its directories 0700/0711)', warn: '—', fail: 'a file or directory others may read or write' },
  run(o) {
    const r = observed(o.files, 'credential files', 'dr status --local');
    if ('outcome' in r) return [r.outcome];
    const bad = r.value.filter((f) => (f.mode & 0o777 & ~f.allowed) !== 0);
    if (!bad.length) return [pass('credential files', `${r.value.length} files and directories private (${r.value.filter((f) => f.kind === 'file').length} files 0600)`)];
    return bad.map((f) => fail(f.path, `mode ${(f.mode & 0o777).toString(8).padStart(4, '0')}: ${f.kind === 'file' ? 'others may read a credential' : 'others may list or change it'}`, `chmod ${f.allowed.toString(8).padStart(4, '0')} ${f.path}`));
  },
});

export const SECRET_CHECKS = [replicas, kmsKeys, fileModes];
