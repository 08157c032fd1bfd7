/**
 * Job readiness (AWS): the standby region holds the job image (ECR) and its functions (backup job, token monitor,
 * readiness), and every schedule is in the state its region's role calls for: ENABLED where the database serves,
 * DISABLED on the standby (a promotion flips them; components/backup-jobs.ts).
 */
import { define, fail, observed, pass, type Outcome } from './common';

export const image = define({
  name: 'jobs.image',
  area: 'jobs',
  environments: ['aws'],
  rules: { pass: "the standby region's repository holds the job image", warn: 'not observed', fail: 'the image is missing' },
  run(o) {
    const fix = `pulumi up the stack in ${o.region} (it builds and pushes the backup job image to its own repository)`;
    const r = observed(o.image, `${o.region} job image`, `${fix}; to observe it, add @aws-sdk/client-ecr to the dr image (ecr:DescribeImages on the repository)`);
    if ('outcome' in r) return [r.outcome];
    const res = `${o.region}/${r.value.repository}`;
    return [r.value.present ? pass(res, `image present${r.value.detail ? ` (${r.value.detail})` : ''}`) : fail(res, `no image in ${r.value.repository}: the jobs cannot start in ${o.region}`, fix)];
  },
});

export const functions = define({
  name: 'jobs.function',
  area: 'jobs',
  environments: ['aws'],
  rules: { pass: 'every job function exists in the standby region and is Active', warn: 'not observed', fail: 'a function is missing or not Active' },
  run(o) {
    const fix = `pulumi up the stack in ${o.region}`;
    const r = observed(o.functions, `${o.region} functions`, `${fix}; to observe them, add @aws-sdk/client-lambda to the dr image (lambda:GetFunction on the functions)`);
    if ('outcome' in r) return [r.outcome];
    return r.value.map((f): Outcome => {
      const res = `${o.region}/${f.name}`;
      if (!f.present) return fail(res, 'the function does not exist', fix);
      if (f.state && f.state !== 'Active') return fail(res, `state ${f.state}`, fix);
      return pass(res, `exists${f.state ? `, ${f.state}` : ''}`);
    });
  },
});

export const schedules = define({
  name: 'jobs.schedules',
  area: 'jobs',
  environments: ['aws'],
  rules: { pass: 'every schedule exists in the state its role calls for (serving ENABLED, standby DISABLED)', warn: 'not observed', fail: 'a schedule is missing or in the wrong state' },
  run(o) {
    const r = observed(o.schedules, 'schedules', 'to observe them, add @aws-sdk/client-scheduler to the dr image (scheduler:GetSchedule on the schedules)');
    if ('outcome' in r) return [r.outcome];
    return r.value.map((s): Outcome => {
      const res = `${s.region}/${s.name}`;
      const fix = s.expected === 'ENABLED' ? `pulumi up the serving stack in ${s.region}, or aws scheduler update-schedule --name ${s.name} --state ENABLED (with its target)` : `pulumi up the stack in ${s.region}: backups must run in the serving region only`;
      if (s.state === 'missing') return fail(res, 'the schedule does not exist', fix);
      if (s.state !== s.expected) return fail(res, `${s.state}, but ${s.region} ${s.expected === 'ENABLED' ? 'serves' : 'stands by'}: it should be ${s.expected}`, fix);
      return pass(res, s.state);
    });
  },
});

export const JOB_CHECKS = [image, functions, schedules];
