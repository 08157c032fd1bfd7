/**
 * The GitHub Actions workflows, parsed with `yaml` and checked for structure: triggers, permissions, OIDC
 * credentials (never long-lived AWS keys), the preview matrix covering both regional stacks, the commands they run,
 * and no workflow input interpolated into a shell script.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { COMMANDS } from '../automation/cli/registry';

const ROOT = path.join(__dirname, '..');
const WF_DIR = path.join(ROOT, '.github', 'workflows');

type Json = Record<string, any>;

function load(name: string): { doc: Json; text: string } {
  const text = fs.readFileSync(path.join(WF_DIR, name), 'utf8');
  const doc = parse(text) as Json;
  assert.ok(doc && typeof doc === 'object', `${name} is not a YAML mapping`);
  return { doc, text };
}

function steps(doc: Json): Json[] {
  return Object.values(doc.jobs as Record<string, Json>).flatMap((j) => (j.steps ?? []) as Json[]);
}

function stepUsing(doc: Json, action: string): Json[] {
  return steps(doc).filter((s) => typeof s.uses === 'string' && s.uses.split('@')[0] === action);
}

/** Every string anywhere in a value (for "never mentioned" checks). */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)]);
  return [];
}

/** The months a 5-field cron fires in (`*`, lists, ranges and steps); throws on a malformed expression. */
function cronMonths(expr: string): number[] {
  const fields = expr.trim().split(/\s+/);
  assert.equal(fields.length, 5, `cron '${expr}' must have 5 fields`);
  const [min, hour, dom, month, dow] = fields;
  const expand = (f: string, lo: number, hi: number): number[] => {
    const out = new Set<number>();
    for (const part of f.split(',')) {
      const [range, stepText] = part.split('/');
      const step = stepText === undefined ? 1 : Number(stepText);
      assert.ok(Number.isInteger(step) && step > 0, `bad step in '${f}'`);
      let [a, b] = range === '*' ? [lo, hi] : range.split('-').map(Number);
      if (b === undefined) b = stepText === undefined ? a : hi;
      assert.ok(Number.isInteger(a) && Number.isInteger(b) && a >= lo && b <= hi && a <= b, `field '${f}' out of ${lo}-${hi}`);
      for (let x = a; x <= b; x += step) out.add(x);
    }
    return [...out].sort((x, y) => x - y);
  };
  expand(min, 0, 59);
  expand(hour, 0, 23);
  expand(dom, 1, 31);
  expand(dow, 0, 7);
  return expand(month, 1, 12);
}

const WORKFLOWS = ['ci.yml', 'preview.yml', 'drill.yml'];

describe('GitHub Actions workflows', () => {
  describe('every workflow', () => {
    for (const name of WORKFLOWS) {
      it(`${name}: parses, names its jobs, bounds their time and pins every action to a version`, () => {
        const { doc } = load(name);
        assert.equal(typeof doc.name, 'string');
        assert.ok(doc.on && typeof doc.on === 'object', `${name}: 'on' must be a mapping of triggers`);
        const jobs = Object.entries(doc.jobs as Record<string, Json>);
        assert.ok(jobs.length > 0, `${name} has no jobs`);
        for (const [id, job] of jobs) {
          assert.ok(job['runs-on'], `${name}: job ${id} has no runs-on`);
          assert.ok(Number.isInteger(job['timeout-minutes']) && job['timeout-minutes'] <= 90, `${name}: job ${id} needs timeout-minutes ≤ 90`);
          assert.ok(Array.isArray(job.steps) && job.steps.length > 0, `${name}: job ${id} has no steps`);
          for (const s of job.steps as Json[]) {
            assert.ok(s.uses || s.run, `${name}: a step of ${id} neither uses an action nor runs a command`);
            if (s.uses) assert.match(s.uses, /^[\w.-]+\/[\w./-]+@v\d+$/, `${name}: action '${s.uses}' must be pinned to a major version`);
          }
        }
      });

      it(`${name}: declares least-privilege permissions and never references long-lived AWS keys`, () => {
        const { doc, text } = load(name);
        assert.ok(doc.permissions && typeof doc.permissions === 'object', `${name}: top-level permissions must be explicit`);
        for (const [scope, level] of Object.entries(doc.permissions as Record<string, string>)) {
          assert.notEqual(level, 'write-all', `${name}: ${scope}`);
          if (!['id-token', 'pull-requests'].includes(scope)) assert.equal(level, 'read', `${name}: ${scope} should be read`);
        }
        for (const s of strings(doc)) {
          assert.doesNotMatch(s, /AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id|aws-secret-access-key/i, `${name} references long-lived AWS keys: ${s}`);
        }
        assert.doesNotMatch(text, /AKIA[0-9A-Z]{16}/, `${name} contains an access key id`);
      });

      it(`${name}: no workflow input or event text is interpolated into a shell script`, () => {
        const { doc } = load(name);
        for (const s of steps(doc)) {
          if (typeof s.run !== 'string') continue;
          assert.doesNotMatch(s.run, /\$\{\{\s*(inputs\.|github\.event\.|github\.head_ref)/, `script injection risk in: ${s.run}`);
        }
      });
    }
  });

  describe('ci.yml', () => {
    it('runs the repository test entry on push to main and on pull requests on Node 22 (the target) and Node 20, with an npm cache', () => {
      const { doc } = load('ci.yml');
      assert.ok(doc.on.pull_request !== undefined, 'pull_request trigger');
      assert.deepEqual(doc.on.push?.branches, ['main']);
      const [node] = stepUsing(doc, 'actions/setup-node');
      assert.ok(node, 'setup-node step');
      assert.equal(String(node.with['node-version']), '${{ matrix.node }}');
      assert.deepEqual(doc.jobs.test.strategy?.matrix?.node, [22, 20]);
      assert.equal(node.with.cache, 'npm');
      assert.ok(stepUsing(doc, 'actions/checkout').length === 1);
      const runs = steps(doc).map((s) => s.run).filter((r): r is string => typeof r === 'string');
      assert.ok(runs.some((r) => /(^|\s)bash \.ci\/run\b/.test(r) || /\bnpm test\b/.test(r)), `ci must run npm test, runs: ${runs.join(' | ')}`);
    });

    it('.ci/run, which it calls, installs the servers and runs npm test', () => {
      const run = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
      assert.match(run, /scripts\/setup\.sh/);
      assert.match(run, /^npm test$/m);
      assert.match(fs.readFileSync(path.join(ROOT, 'scripts', 'setup.sh'), 'utf8'), /postgresql/);
    });
  });

  describe('preview.yml', () => {
    const { doc } = load('preview.yml');
    const job = Object.values(doc.jobs as Record<string, Json>)[0];

    it('runs on pull requests only, with OIDC and PR-comment permissions', () => {
      assert.deepEqual(Object.keys(doc.on), ['pull_request']);
      assert.deepEqual(doc.permissions, { 'id-token': 'write', contents: 'read', 'pull-requests': 'write' });
    });

    it('has a matrix covering both regional stacks of the repository (and no scratch stack)', () => {
      const matrix = job.strategy?.matrix?.stack as string[];
      assert.deepEqual([...matrix].sort(), ['primary', 'secondary']);
      assert.equal(job.strategy['fail-fast'], false, 'one stack failing must not cancel the other preview');
      // The matrix names must be stacks that exist in the repository with those roles.
      for (const stack of matrix) {
        const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
        assert.ok(fs.existsSync(file), `Pulumi.${stack}.yaml exists`);
        const cfg = parse(fs.readFileSync(file, 'utf8')) as Json;
        assert.equal(cfg.config['bot-platform-dr:role'], stack);
      }
    });

    it('assumes an AWS role through OIDC before running pulumi preview with a PR comment per stack', () => {
      const all = job.steps as Json[];
      const creds = all.findIndex((s) => typeof s.uses === 'string' && s.uses.startsWith('aws-actions/configure-aws-credentials@'));
      const pulumi = all.findIndex((s) => typeof s.uses === 'string' && s.uses.startsWith('pulumi/actions@'));
      assert.ok(creds >= 0 && pulumi > creds, 'credentials step comes before the pulumi step');
      assert.match(all[creds].with['role-to-assume'], /^\$\{\{\s*(vars|secrets)\.[A-Z_]+\s*\}\}$/);
      assert.ok(all[creds].with['aws-region'], 'aws-region');
      const p = all[pulumi].with;
      assert.equal(p.command, 'preview');
      assert.equal(p['comment-on-pr'], true);
      assert.match(p['stack-name'], /\$\{\{\s*matrix\.stack\s*\}\}$/);
      assert.equal(all[pulumi].env.PULUMI_ACCESS_TOKEN, '${{ secrets.PULUMI_ACCESS_TOKEN }}');
      // Dependencies are installed before the preview (pulumi/actions runs natively, it does not npm ci).
      assert.ok(all.slice(0, pulumi).some((s) => typeof s.run === 'string' && /\bnpm ci\b/.test(s.run)), 'npm ci before preview');
    });

    it('runs the preview with the DR guardrails policy pack (--policy-pack policy), which npm ci provides', () => {
      const p = (job.steps as Json[]).find((s) => typeof s.uses === 'string' && s.uses.startsWith('pulumi/actions@'))!;
      assert.equal(p.with.policyPacks, 'policy');
      assert.ok(fs.existsSync(path.join(ROOT, 'policy', 'PulumiPolicy.yaml')), 'policy/ is a policy pack');
      assert.equal((parse(fs.readFileSync(path.join(ROOT, 'policy', 'PulumiPolicy.yaml'), 'utf8')) as Json).runtime, 'nodejs');
      const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Json;
      assert.ok(rootPackage.devDependencies['@pulumi/policy'], 'npm ci at the root installs @pulumi/policy (npm ci installs devDependencies)');
      assert.deepEqual(Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'policy', 'package.json'), 'utf8')) as Json).dependencies ?? {}), [], 'the pack installs nothing of its own');
    });
  });

  describe('drill.yml', () => {
    const { doc } = load('drill.yml');
    const job = Object.values(doc.jobs as Record<string, Json>)[0];
    const all = job.steps as Json[];

    it('runs quarterly by cron and on manual dispatch with a restore point input', () => {
      const crons = (doc.on.schedule as Json[]).map((s) => s.cron as string);
      assert.equal(crons.length, 1);
      assert.deepEqual(cronMonths(crons[0]), [1, 4, 7, 10]);
      const input = doc.on.workflow_dispatch.inputs.restore_point;
      assert.equal(input.default, 'latest');
      assert.equal(input.type, 'string');
    });

    it('uses OIDC credentials and never runs two drills at once', () => {
      assert.deepEqual(doc.permissions, { 'id-token': 'write', contents: 'read' });
      assert.equal(doc.concurrency['cancel-in-progress'], false);
      const creds = stepUsing(doc, 'aws-actions/configure-aws-credentials');
      assert.equal(creds.length, 1);
      assert.match(creds[0].with['role-to-assume'], /^\$\{\{\s*(vars|secrets)\.[A-Z_]+\s*\}\}$/);
    });

    it('installs the Pulumi CLI, runs `dr drill --stack scratch` with the restore point from the environment, uploads the report always', () => {
      const pulumiInstall = all.findIndex((s) => typeof s.uses === 'string' && s.uses.startsWith('pulumi/actions@') && !s.with?.command);
      const drill = all.findIndex((s) => typeof s.run === 'string' && /\bdr drill --stack scratch\b/.test(s.run));
      const upload = all.findIndex((s) => typeof s.uses === 'string' && s.uses.startsWith('actions/upload-artifact@'));
      assert.ok(pulumiInstall >= 0 && drill > pulumiInstall, 'Pulumi CLI installed before the drill');
      assert.match(all[drill].run, /--restore-point "\$RESTORE_POINT"/);
      assert.match(all[drill].env.RESTORE_POINT, /inputs\.restore_point/);
      assert.equal(all[drill].env.PULUMI_ACCESS_TOKEN, '${{ secrets.PULUMI_ACCESS_TOKEN }}');
      assert.ok(upload > drill, 'report uploaded after the drill');
      assert.equal(all[upload].if, 'always()', 'the report is uploaded even when the drill fails');
      assert.equal(all[upload].with.path, 'reports/');
      assert.match(all[drill].run, /--reports-dir reports\b/);
    });

    it('passes only flags the registered `dr drill` command accepts', async function () {
      const command = await COMMANDS.drill();
      assert.ok(command.flags.stack, 'dr drill --stack (the AWS scratch drill)');
      const run = all.find((s) => typeof s.run === 'string' && /\bdr drill\b/.test(s.run))!.run as string;
      const line = run.split('\n').find((l) => /\bdr drill\b/.test(l))!;
      const flags = [...line.split('>')[0].matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]);
      for (const f of flags) assert.ok(command.flags[f], `dr drill has no --${f} flag; allowed: ${Object.keys(command.flags).join(', ')}`);
    });
  });
});
