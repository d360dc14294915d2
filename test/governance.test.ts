import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { awscdk, github, javascript } from 'projen';
import { addGovernance, GITHUB_ACTIONS_APP_ID, RULESET_APPLY_COMMAND, RULESET_FILE } from '../projenrc/governance';

/**
 * The shape of a repository ruleset as GitHub's REST API takes it
 * (POST /repos/{owner}/{repo}/rulesets): returns every violation, so a test can show what is wrong.
 */
function rulesetErrors(ruleset: any): string[] {
  const errors: string[] = [];
  const fail = (where: string, what: string) => errors.push(`${where}: ${what}`);
  const isBool = (v: unknown) => typeof v === 'boolean';
  const isStringArray = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0);
  const onlyKeys = (where: string, obj: any, required: string[], optional: string[]) => {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      fail(where, 'must be an object');
      return;
    }
    for (const key of required) if (!(key in obj)) fail(where, `missing ${key}`);
    for (const key of Object.keys(obj)) if (![...required, ...optional].includes(key)) fail(where, `unknown key ${key}`);
  };

  onlyKeys('ruleset', ruleset, ['name', 'enforcement'], ['target', 'bypass_actors', 'conditions', 'rules']);
  if (typeof ruleset?.name !== 'string' || ruleset.name.length === 0) fail('name', 'a non-empty string');
  if (!['branch', 'tag', 'push'].includes(ruleset?.target)) fail('target', 'branch, tag or push');
  if (!['disabled', 'active', 'evaluate'].includes(ruleset?.enforcement)) fail('enforcement', 'disabled, active or evaluate');

  if (!Array.isArray(ruleset?.bypass_actors)) {
    fail('bypass_actors', 'an array');
  } else {
    ruleset.bypass_actors.forEach((actor: any, i: number) => {
      onlyKeys(`bypass_actors[${i}]`, actor, ['actor_type'], ['actor_id', 'bypass_mode']);
      if (!['Integration', 'OrganizationAdmin', 'RepositoryRole', 'Team', 'DeployKey'].includes(actor?.actor_type)) fail(`bypass_actors[${i}].actor_type`, 'unknown');
      if (actor?.bypass_mode !== undefined && !['always', 'pull_request'].includes(actor.bypass_mode)) fail(`bypass_actors[${i}].bypass_mode`, 'always or pull_request');
    });
  }

  onlyKeys('conditions', ruleset?.conditions, ['ref_name'], []);
  const refName = ruleset?.conditions?.ref_name;
  onlyKeys('conditions.ref_name', refName, ['include', 'exclude'], []);
  for (const key of ['include', 'exclude']) {
    const refs = refName?.[key];
    if (!isStringArray(refs)) {
      fail(`conditions.ref_name.${key}`, 'an array of ref patterns');
      continue;
    }
    for (const ref of refs as string[]) {
      const prefix = ruleset.target === 'tag' ? 'refs/tags/' : 'refs/heads/';
      if (!['~DEFAULT_BRANCH', '~ALL'].includes(ref) && !ref.startsWith(prefix)) fail(`conditions.ref_name.${key}`, `${ref} is neither ~DEFAULT_BRANCH, ~ALL nor ${prefix}...`);
    }
  }
  if (Array.isArray(refName?.include) && refName.include.length === 0) fail('conditions.ref_name.include', 'targets no ref');

  const parameterShapes: Record<string, ((where: string, p: any) => void) | undefined> = {
    creation: undefined,
    deletion: undefined,
    non_fast_forward: undefined,
    required_linear_history: undefined,
    required_signatures: undefined,
    update: (where, p) => {
      onlyKeys(where, p, ['update_allows_fetch_and_merge'], []);
      if (!isBool(p?.update_allows_fetch_and_merge)) fail(where, 'update_allows_fetch_and_merge must be a boolean');
    },
    required_deployments: (where, p) => {
      onlyKeys(where, p, ['required_deployment_environments'], []);
      if (!isStringArray(p?.required_deployment_environments)) fail(where, 'required_deployment_environments must be strings');
    },
    pull_request: (where, p) => {
      const flags = ['dismiss_stale_reviews_on_push', 'require_code_owner_review', 'require_last_push_approval', 'required_review_thread_resolution'];
      onlyKeys(where, p, [...flags, 'required_approving_review_count'], ['allowed_merge_methods', 'automatic_copilot_code_review_enabled']);
      for (const flag of flags) if (!isBool(p?.[flag])) fail(`${where}.${flag}`, 'a boolean');
      const count = p?.required_approving_review_count;
      if (!Number.isInteger(count) || count < 0 || count > 10) fail(`${where}.required_approving_review_count`, 'an integer from 0 to 10');
      const methods = p?.allowed_merge_methods;
      if (methods !== undefined && (!Array.isArray(methods) || methods.length === 0 || !methods.every((m: string) => ['merge', 'squash', 'rebase'].includes(m)))) {
        fail(`${where}.allowed_merge_methods`, 'a non-empty list of merge, squash, rebase');
      }
    },
    required_status_checks: (where, p) => {
      onlyKeys(where, p, ['required_status_checks', 'strict_required_status_checks_policy'], ['do_not_enforce_on_create']);
      if (!isBool(p?.strict_required_status_checks_policy)) fail(`${where}.strict_required_status_checks_policy`, 'a boolean');
      if (p?.do_not_enforce_on_create !== undefined && !isBool(p.do_not_enforce_on_create)) fail(`${where}.do_not_enforce_on_create`, 'a boolean');
      if (!Array.isArray(p?.required_status_checks)) {
        fail(`${where}.required_status_checks`, 'an array');
        return;
      }
      p.required_status_checks.forEach((check: any, i: number) => {
        onlyKeys(`${where}.required_status_checks[${i}]`, check, ['context'], ['integration_id']);
        if (typeof check?.context !== 'string' || check.context.length === 0) fail(`${where}.required_status_checks[${i}].context`, 'a non-empty string');
        if (check?.integration_id !== undefined && !Number.isInteger(check.integration_id)) fail(`${where}.required_status_checks[${i}].integration_id`, 'an integer');
      });
    },
  };

  if (!Array.isArray(ruleset?.rules)) return [...errors, 'rules: an array'];
  const seen = new Set<string>();
  ruleset.rules.forEach((rule: any, i: number) => {
    const where = `rules[${i}]`;
    if (!(rule?.type in parameterShapes)) {
      fail(where, `unknown type ${rule?.type}`);
      return;
    }
    if (seen.has(rule.type)) fail(where, `${rule.type} appears twice`);
    seen.add(rule.type);
    const shape = parameterShapes[rule.type];
    if (shape) {
      onlyKeys(where, rule, ['type', 'parameters'], []);
      shape(`${where}.parameters`, rule.parameters);
    } else {
      onlyKeys(where, rule, ['type'], []);
    }
  });
  return errors;
}

interface Generated {
  readonly dir: string;
  readonly ruleset: any;
  readonly rulesetText: string;
  readonly contributing: string;
}

function newProject(outdir: string, withBuildWorkflow: boolean): awscdk.AwsCdkConstructLibrary {
  const project = new awscdk.AwsCdkConstructLibrary({
    name: 'governance-fixture',
    author: 'Fx platform maintainers',
    authorAddress: 'maintainers@users.noreply.github.com',
    repositoryUrl: 'https://github.com/fx-orleans/platform.git',
    defaultReleaseBranch: 'main',
    cdkVersion: '2.276.0',
    jsiiVersion: '~6.0.0',
    outdir,
    packageManager: javascript.NodePackageManager.NPM,
    release: false,
    buildWorkflow: false,
    githubOptions: { mergify: false, pullRequestLint: true },
  });
  if (withBuildWorkflow) {
    // The same shape as .projenrc.ts: one job named `build` (its check is named after the job id).
    project.github!.addWorkflow('build').addJobs({
      build: { runsOn: ['ubuntu-latest'], permissions: { contents: github.workflows.JobPermission.READ }, steps: [{ run: 'bash .ci/run' }] },
    });
  }
  addGovernance(project);
  return project;
}

let generated: Generated;
const postSynth = process.env.PROJEN_DISABLE_POST;

beforeAll(() => {
  // Synthesize a throw-away project with the generator: no install, nothing outside the temp dir.
  process.env.PROJEN_DISABLE_POST = 'true';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-governance-'));
  newProject(dir, true).synth();
  const rulesetText = fs.readFileSync(path.join(dir, RULESET_FILE), 'utf8');
  generated = { dir, rulesetText, ruleset: JSON.parse(rulesetText), contributing: fs.readFileSync(path.join(dir, 'CONTRIBUTING.md'), 'utf8') };
});

afterAll(() => {
  fs.rmSync(generated.dir, { recursive: true, force: true });
  if (postSynth === undefined) delete process.env.PROJEN_DISABLE_POST;
  else process.env.PROJEN_DISABLE_POST = postSynth;
});

describe('ruleset for main', () => {
  test('has the shape the GitHub rulesets API expects', () => {
    expect(rulesetErrors(generated.ruleset)).toEqual([]);
    expect(generated.rulesetText).not.toContain('"//"');
  });

  test('is an active branch ruleset on the default branch with nobody bypassing it', () => {
    expect(generated.ruleset).toMatchObject({
      name: 'main',
      target: 'branch',
      enforcement: 'active',
      bypass_actors: [],
      conditions: { ref_name: { include: ['~DEFAULT_BRANCH'], exclude: [] } },
    });
  });

  test('forbids deletion and force pushes and keeps history linear', () => {
    const types = generated.ruleset.rules.map((r: any) => r.type);
    expect(types).toEqual(expect.arrayContaining(['deletion', 'non_fast_forward', 'required_linear_history']));
  });

  test('requires a pull request with one fresh code-owner approval, merged by squash', () => {
    const pr = generated.ruleset.rules.find((r: any) => r.type === 'pull_request');
    expect(pr.parameters).toEqual({
      required_approving_review_count: 1,
      dismiss_stale_reviews_on_push: true,
      require_code_owner_review: true,
      require_last_push_approval: true,
      required_review_thread_resolution: true,
      allowed_merge_methods: ['squash'],
    });
  });

  test('requires the build job and the PR title check, reported by GitHub Actions, on an up-to-date branch', () => {
    const checks = generated.ruleset.rules.find((r: any) => r.type === 'required_status_checks');
    expect(checks.parameters).toEqual({
      strict_required_status_checks_policy: true,
      do_not_enforce_on_create: false,
      required_status_checks: [
        { context: 'build', integration_id: GITHUB_ACTIONS_APP_ID },
        { context: 'Validate PR title', integration_id: GITHUB_ACTIONS_APP_ID },
      ],
    });
  });

  test('synthesis fails when the project has no build workflow to require', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fx-governance-'));
    try {
      expect(() => newProject(dir, false).synth()).toThrow(/addGovernance: the ruleset requires the jobs of the 'build' workflow/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the shape check can fail', () => {
  const mutate = (change: (r: any) => void) => {
    const copy = JSON.parse(generated.rulesetText);
    change(copy);
    return rulesetErrors(copy);
  };

  test.each([
    ['an unknown enforcement', (r: any) => { r.enforcement = 'on'; }, /enforcement/],
    ['a missing name', (r: any) => { delete r.name; }, /missing name/],
    ['a ref pattern that is not a ref', (r: any) => { r.conditions.ref_name.include = ['main']; }, /main is neither/],
    ['no exclude list', (r: any) => { delete r.conditions.ref_name.exclude; }, /missing exclude/],
    ['an unknown rule type', (r: any) => { r.rules.push({ type: 'no_force_push' }); }, /unknown type no_force_push/],
    ['a string review count', (r: any) => { r.rules.find((x: any) => x.type === 'pull_request').parameters.required_approving_review_count = '1'; }, /required_approving_review_count/],
    ['a missing pull request flag', (r: any) => { delete r.rules.find((x: any) => x.type === 'pull_request').parameters.require_last_push_approval; }, /missing require_last_push_approval/],
    ['a status check without context', (r: any) => { r.rules.find((x: any) => x.type === 'required_status_checks').parameters.required_status_checks.push({ integration_id: 1 }); }, /missing context/],
    ['parameters on a rule that takes none', (r: any) => { r.rules.find((x: any) => x.type === 'deletion').parameters = {}; }, /unknown key parameters/],
  ])('rejects %s', (_name, change, message) => {
    expect(mutate(change).join('\n')).toMatch(message);
  });
});

describe('CONTRIBUTING.md', () => {
  test('describes GitHub Flow, conventional commit titles, squash merge and semantic-release on main', () => {
    const text = generated.contributing;
    expect(text).toMatch(/## Branching model: GitHub Flow/);
    expect(text).toMatch(/short-lived branch from `main`/);
    expect(text).toMatch(/Conventional Commit/);
    expect(text).toMatch(/\*\*squash merged\*\*/);
    expect(text).toMatch(/Every push to `main` runs semantic-release/);
  });

  test('gives the local check command and the exact command that applies the ruleset', () => {
    expect(generated.contributing).toContain('npm install && npx projen ci');
    expect(RULESET_APPLY_COMMAND).toBe('gh api --method POST repos/{owner}/{repo}/rulesets --input .github/rulesets/main.json');
    expect(generated.contributing).toContain(`\`\`\`sh\n${RULESET_APPLY_COMMAND}\n\`\`\``);
  });

  test('names the checks the ruleset requires and is marked as generated', () => {
    expect(generated.contributing).toContain('Required checks: `build` and `Validate PR title`.');
    expect(generated.contributing.split('\n')[0]).toMatch(/^<!-- ~~ Generated by projen.*projenrc\/governance\.ts -->$/);
  });
});
