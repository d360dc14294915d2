import { awscdk, github, javascript, JsonFile, TextFile } from 'projen';
import { addGovernance } from './projenrc/governance';

// Versions of the libraries we are built and tested against. Peer floors are versions that were
// actually published (checked against the npm registry when they were set).
const CDK_VERSION = '2.276.0';
const CDK8S_VERSION = '2.70.106';
// The kubectl layer of the default Kubernetes minor (src/core/versions.ts DEFAULT_KUBERNETES_VERSION).
const KUBECTL_LAYER_DEFAULT = '@aws-cdk/lambda-layer-kubectl-v35@^2.2.2';
// Layers of the other supported minors: loaded on demand, so users install only the one they run.
const KUBECTL_LAYERS_OTHER = ['@aws-cdk/lambda-layer-kubectl-v34@^2.2.2', '@aws-cdk/lambda-layer-kubectl-v36@^2.0.1'];
const PACMAK_TARGETS = ['python', 'java', 'dotnet', 'go'];
// Coverage of src/ measured on 2026-12-01 (npx jest), rounded down: a change that drops it fails the build.
const COVERAGE_FLOOR = { statements: 99, branches: 92, functions: 95, lines: 99 };

const project = new awscdk.AwsCdkConstructLibrary({
  name: '@fx-orleans/platform',
  description: 'Fx: a complete, production-grade application platform on AWS (EKS, RDS PostgreSQL, observability, microservices) in a few lines of CDK.',
  author: 'Fx platform maintainers',
  authorAddress: 'maintainers@users.noreply.github.com',
  authorOrganization: true,
  license: 'Apache-2.0',
  copyrightOwner: 'Fx platform maintainers',
  repositoryUrl: 'https://github.com/fx-orleans/platform.git',
  homepage: 'https://github.com/fx-orleans/platform#readme',
  keywords: ['awscdk', 'cdk8s', 'eks', 'kubernetes', 'platform', 'traefik', 'postgresql', 'observability'],
  stability: 'experimental',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',

  cdkVersion: CDK_VERSION,
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  peerDeps: [`cdk8s@^${CDK8S_VERSION}`, KUBECTL_LAYER_DEFAULT],
  devDeps: [
    ...KUBECTL_LAYERS_OTHER,
    'aws-cdk@^2.1148.1',
    'cdk-nag@^3.0.2',
    'kubernetes-models@^5.1.0',
    '@kubernetes-models/traefik@^2.0.0',
    '@kubernetes-models/external-secrets@^2.0.0',
    '@kubernetes-models/prometheus-operator@^6.0.0',
    '@kubernetes-models/cert-manager@^6.0.0',
    'semantic-release@^24.2.9',
    '@semantic-release/commit-analyzer@^13.0.1',
    '@semantic-release/release-notes-generator@^14.1.1',
    '@semantic-release/changelog@^6.0.3',
    '@semantic-release/npm@^12.0.2',
    '@semantic-release/github@^11.0.6',
    '@semantic-release/exec@^7.1.0',
    'conventional-changelog-conventionalcommits@^8.0.0',
    // Chart data generator and conformance (YAML of charts and of the Kubernetes field schema).
    'js-yaml@^4.1.0',
    '@types/js-yaml@^4.0.9',
    // The database service-role handler: pg is bundled into its Lambda asset at build time by esbuild;
    // the Lambda runtime provides the AWS SDK (types only here).
    'pg@^8.23.1',
    '@types/pg@^8.23.1',
    'esbuild@^0.28.2',
    '@aws-sdk/client-secrets-manager@^3.1164.0',
  ],

  // jsii targets: bindings are generated with `jsii-pacmak --code-only` in CI (no PyPI/Maven/NuGet/Go here).
  publishToPypi: { distName: 'fx-orleans.platform', module: 'fx_orleans.platform' },
  publishToMaven: {
    javaPackage: 'io.github.fxorleans.platform',
    mavenGroupId: 'io.github.fx-orleans',
    mavenArtifactId: 'platform',
  },
  publishToNuget: { dotNetNamespace: 'FxOrleans.Platform', packageId: 'FxOrleans.Platform' },
  publishToGo: { moduleName: 'github.com/fx-orleans/platform-go', packageName: 'fxplatform' },

  // Releases are made by semantic-release (.releaserc.json below), not projen's bump/release flow.
  release: false,
  buildWorkflow: false,
  githubOptions: { mergify: false, pullRequestLint: true },
  pullRequestTemplateContents: [
    '## What and why',
    '',
    '<!-- The PR title is a conventional commit (feat:, fix:, docs:, test:, chore:); it becomes the squash commit. -->',
    '',
    '## Checklist',
    '- [ ] `npm install && npx projen ci` passes locally',
    '- [ ] tests cover the change (Template assertions, schema validation of every new manifest)',
    '- [ ] `API.md` and projen-managed files regenerated (`npx projen`)',
    '- [ ] breaking changes are called out with `BREAKING CHANGE:` in the commit body',
  ],
  depsUpgradeOptions: {
    workflowOptions: { schedule: javascript.UpgradeDependenciesSchedule.WEEKLY },
  },
  workflowNodeVersion: '22.x',

  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testTimeout: 120_000,
      // Both cores: jest's default (cores - 1) runs one worker on a 2-core machine.
      maxWorkers: '100%',
      coverageReporters: ['text-summary', 'cobertura'],
      // The library's own code; build tools are proven by their own fixtures, generated types by test/k8s-types.test.ts.
      collectCoverageFrom: ['src/**/*.ts', '!src/**/index.ts', '!src/database/role-handler/**', '!src/**/*.generated.ts'],
      coverageThreshold: COVERAGE_FLOOR,
      // Builds the handler bundles (lib/database/role-handler.bundle, lib/microservice/image-copy.bundle) if stale.
      globalSetup: '<rootDir>/test/database-roles.global-setup.ts',
      // A temporary directory per test file, removed afterwards (synthesized assemblies and their assets).
      setupFilesAfterEnv: ['<rootDir>/test/util/jest-setup.ts'],
    },
  },
  // Lint reports and never fixes in the build (CI); `npx projen eslint:fix` fixes locally.
  eslintOptions: { dirs: ['src'], devdirs: ['test', 'examples', 'build-tools', 'projenrc'], commandOptions: { fix: false, extraArgs: ['--max-warnings', '0'] } },
  gitignore: ['cdk.out/', 'cdk.out.*/', 'examples/**/cdk.out/', '.bench/', 'dist/'],
  npmIgnoreOptions: { ignorePatterns: ['examples/', 'build-tools/', '.ci/', 'cdk.out/', '.releaserc.json', 'test-reports/', 'coverage/'] },
});

// ---------------------------------------------------------------------------------------------
// The database service-role handler and its PostgreSQL driver, bundled into one file before compiling.
const bundleRoleHandler = project.addTask('bundle:role-handler', {
  description: 'Bundle the database service-role custom resource handler with the pg driver (lib/database/role-handler.bundle)',
  exec: 'ts-node --transpile-only --project build-tools/tsconfig.json build-tools/bundle-role-handler.ts',
});
project.preCompileTask.spawn(bundleRoleHandler);
// The image-copy handler (asset image -> the service's own ECR repository), bundled the same way.
const bundleImageCopy = project.addTask('bundle:image-copy', {
  description: 'Bundle the FxImageCopy custom resource handler (lib/microservice/image-copy.bundle)',
  exec: 'ts-node --transpile-only --project build-tools/tsconfig.json build-tools/bundle-image-copy.ts',
});
project.preCompileTask.spawn(bundleImageCopy);

// ---------------------------------------------------------------------------------------------
// Type checking: ts-jest transpiles test files in isolation, so tests and examples are
// type-checked explicitly (one tsc per tree) before jest runs.
new JsonFile(project, 'examples/tsconfig.json', {
  obj: {
    extends: '../tsconfig.json',
    compilerOptions: { noEmit: true, rootDir: '..' },
    include: ['**/*.ts'],
    exclude: ['node_modules', '**/cdk.out'],
  },
});
new JsonFile(project, 'build-tools/tsconfig.json', {
  obj: {
    extends: '../tsconfig.json',
    compilerOptions: { noEmit: true, rootDir: '..' },
    include: ['**/*.ts'],
    exclude: ['node_modules'],
  },
});
const typecheck = project.addTask('typecheck', {
  description: 'Type-check tests, examples and build tools (jest only transpiles)',
  steps: [
    { exec: 'tsc -p test/tsconfig.json' },
    { exec: 'tsc -p examples/tsconfig.json' },
    { exec: 'tsc -p build-tools/tsconfig.json' },
  ],
});
project.testTask.prependSpawn(typecheck);

const lintDirs = 'src test examples build-tools projenrc .projenrc.ts';
project.addTask('eslint:fix', {
  description: 'Fix what eslint can fix (local only; the build only reports)',
  env: { ESLINT_USE_FLAT_CONFIG: 'false' },
  exec: `eslint --ext .ts,.tsx --fix --no-error-on-unmatched-pattern ${lintDirs}`,
});

// ---------------------------------------------------------------------------------------------
// Packaging: npm tarball plus code-only bindings for every jsii target (no foreign toolchains here).
const pacmakCodeOnly = project.addTask('package:code-only', {
  description: 'Generate Python, Java, .NET and Go bindings without their toolchains (proves the API translates)',
  exec: `jsii-pacmak --code-only --outdir dist/code-only ${PACMAK_TARGETS.map((t) => `--target ${t}`).join(' ')}`,
});
for (const name of ['package', 'package-all']) {
  const task = project.tasks.tryFind(name)!;
  task.reset();
  task.spawn(project.tasks.tryFind('package:js')!);
  task.spawn(pacmakCodeOnly);
}
// `npm ci` rejects projen's lockfile on this machine (DESIGN section 7).
project.tasks.tryFind('install:ci')!.reset('npm install --no-audit --no-fund');

// ---------------------------------------------------------------------------------------------
// Example apps: synthesized offline with the cdk CLI (ts-node transpile-only: tsc type-checks them).
const cdkSynth = (main: string, out: string) =>
  `cdk synth --quiet --app "ts-node --transpile-only --project examples/tsconfig.json ${main}" --output ${out}`;
const summary = (out: string) => `ts-node --transpile-only --project build-tools/tsconfig.json build-tools/summary.ts ${out}`;
const synthExample = project.addTask('synth:example', {
  description: 'Synthesize the full example platform (examples/platform) into cdk.out and print a summary',
  steps: [{ exec: cdkSynth('examples/platform/main.ts', 'cdk.out') }, { exec: summary('cdk.out') }],
});
project.addTask('synth:cluster', {
  description: 'Synthesize FxCluster alone (examples/cluster) into cdk.out.cluster and print a summary',
  steps: [{ exec: cdkSynth('examples/cluster/main.ts', 'cdk.out.cluster') }, { exec: summary('cdk.out.cluster') }],
});
const synthDev = project.addTask('synth:dev', {
  description: 'Synthesize the development example (examples/dev) into cdk.out.dev and print a summary',
  steps: [{ exec: cdkSynth('examples/dev/main.ts', 'cdk.out.dev') }, { exec: summary('cdk.out.dev') }],
});

// ---------------------------------------------------------------------------------------------
// Release: semantic-release on pushes to main. The prepare step writes the version, then
// recompiles so the .jsii assembly, API.md and the resource version tag carry the release version.
const PREPARE_CMD = 'npx projen release:prepare ${nextRelease.version}';
new JsonFile(project, '.releaserc.json', {
  obj: {
    branches: ['main'],
    tagFormat: 'v${version}',
    plugins: [
      ['@semantic-release/commit-analyzer', { preset: 'conventionalcommits' }],
      ['@semantic-release/release-notes-generator', { preset: 'conventionalcommits' }],
      ['@semantic-release/changelog', { changelogFile: 'CHANGELOG.md' }],
      ['@semantic-release/npm', { npmPublish: true }],
      ['@semantic-release/exec', { prepareCmd: PREPARE_CMD }],
      ['@semantic-release/github', { assets: [{ path: 'dist/js/*.tgz', label: 'npm package' }] }],
    ],
  },
});
const releasePrepare = project.addTask('release:prepare', {
  description: 'semantic-release prepare step: set the version, rebuild the jsii assembly and API.md, pack',
  receiveArgs: true,
  steps: [
    { exec: 'npm pkg set version=$@', receiveArgs: true },
    { spawn: 'compile' },
    { spawn: 'post-compile' },
    { spawn: 'package:js' },
  ],
});
project.addTask('release:verify', {
  description: 'Proves the release prepare step: runs it with a test version in a throw-away copy and checks the assembly',
  exec: 'bash build-tools/verify-release-prepare.sh',
});
void releasePrepare;

// ---------------------------------------------------------------------------------------------
// The CI entry point: the one command the README gives for running every test.
const bench = project.addTask('bench', {
  description: 'Synthesis benchmark: platform with 1, 50 and 200 services (time, peak memory, resources and template bytes per stack)',
});
bench.spawn(project.compileTask);
bench.exec('ts-node --transpile-only --project build-tools/tsconfig.json build-tools/bench.ts', { receiveArgs: true });

// The README's test command. Self-contained: nothing it runs reads outside the repository (the
// chart facts the tests need are generated data under test/data, written by `chart-data`).
const ci = project.addTask('ci', {
  description: 'The README test command: build (typecheck, jest --ci, eslint, bindings), no projen drift, example synth, release prepare, benchmark',
});
ci.spawn(project.buildTask);
// No import cycle in src/ (type-only imports count).
ci.exec('ts-node --transpile-only --project build-tools/tsconfig.json build-tools/check-cycles.ts src');
ci.exec('git diff --exit-code -- . ":(exclude)package-lock.json" || (echo "projen-generated files or API.md are out of date: run npx projen build and commit" && exit 1)');
ci.spawn(synthExample);
ci.spawn(synthDev);
ci.spawn(project.tasks.tryFind('release:verify')!);
ci.spawn(bench);

// Chart facts for the test suite, extracted from the pinned chart packages in ../shared/charts.
const tsNode = (script: string) => `ts-node --transpile-only --project build-tools/tsconfig.json ${script}`;
project.addTask('logical-ids', {
  description: 'Rewrite test/data/logical-ids.json (the pinned logical ids of the examples\' retained and snapshotted resources) after adding one on purpose',
  exec: 'ts-node --transpile-only --project test/tsconfig.json test/util/logical-ids.ts',
});
// Typed Kubernetes objects (src/k8s/*.generated.ts) from the field schema and the charts' CRDs in test/data.
const k8sTypes = project.addTask('k8s-types', {
  description: 'Regenerate src/k8s/*.generated.ts (types of the Kubernetes kinds and custom resources the library creates) from test/data',
  exec: tsNode('build-tools/k8s-types.ts'),
});
// PostgreSQL server settings (src/database/pg-settings.generated.ts) of each engine major of the versions table.
project.addTask('pg-settings', {
  description: 'Regenerate src/database/pg-settings.generated.ts (pg_settings of each PostgreSQL major of the versions table; needs npm and psql)',
  exec: tsNode('build-tools/pg-settings.ts'),
});
project.addTask('chart-data', {
  description: 'Regenerate test/data (chart facts and the Kubernetes field schema) from ../shared/charts and ../shared/k8s, then the Kubernetes types',
  steps: [
    { exec: tsNode('build-tools/chart-data.ts') },
    { exec: tsNode('build-tools/conformance/k8s-schema-data.ts') },
    { spawn: k8sTypes.name },
  ],
});

// Conformance: what a cluster would see. Needs ../shared/charts (the chart packages) and fails without it.
project.addTask('conformance', {
  description: 'Render every Helm release of the examples with the kubectl layer\'s helm and validate everything a cluster would apply (needs ../shared)',
  steps: [
    { exec: `${tsNode('build-tools/chart-data.ts')} --check` },
    { exec: `${tsNode('build-tools/conformance/k8s-schema-data.ts')} --check` },
    { exec: tsNode('build-tools/conformance/main.ts'), receiveArgs: true },
    // The README's consumer section, followed by a new project with the packed library.
    { exec: 'bash build-tools/consumer-smoke.sh' },
  ],
});

const testServices = project.addTask('test:services', {
  description: 'pytest suites of the sample services (against a real PostgreSQL; installs Debian packages if missing)',
});
testServices.exec('bash examples/services/orders-api/run-tests.sh');
testServices.exec('bash examples/services/inventory-api/run-tests.sh');
project.addTask('test:services:load', {
  description: 'Load and fault test of the sample services (2 replicas each; replica restart, database restart, stalled dependency, credential rotation; fails on an integrity violation)',
  exec: 'bash examples/services/loadtest/run.sh',
});
project.addTask('test:services:images', {
  description: 'Build both sample service images from Debian (podman, no registry) and smoke-test them under the platform runtime constraints',
  exec: 'bash examples/services/images/smoke.sh',
});
project.addTask('test:database-roles', {
  description: 'The database service-role handler against a real PostgreSQL (installs it from Debian if missing)',
  exec: 'bash test/pg/run-role-tests.sh',
});


// ---------------------------------------------------------------------------------------------
// GitHub: PR build runs exactly .ci/run (the README's test command) and uploads test reports.
const gh = project.github!;
const buildWf = gh.addWorkflow('build');
buildWf.on({ pullRequest: {}, workflowDispatch: {} });
buildWf.addJobs({
  build: {
    runsOn: ['ubuntu-latest'],
    permissions: { contents: github.workflows.JobPermission.READ },
    steps: [
      { name: 'Checkout', uses: 'actions/checkout@v4', with: { 'fetch-depth': 0 } },
      { name: 'Setup Node.js', uses: 'actions/setup-node@v4', with: { 'node-version': '22.x' } },
      { name: 'Install', run: 'npm install --no-audit --no-fund' },
      { name: 'Test (the README test command: build, jest, lint, drift, examples, release prepare, benchmark)', run: 'npx projen ci', env: { CI: 'true' } },
      {
        name: 'Upload test reports',
        if: 'always()',
        uses: 'actions/upload-artifact@v4',
        with: { name: 'test-reports', path: 'test-reports/\ncoverage/' },
      },
    ],
  },
});

// Conformance needs the team's chart packages (../shared): its own workflow, so the build stays self-contained.
const conformanceWf = gh.addWorkflow('conformance');
conformanceWf.on({ pullRequest: {}, workflowDispatch: {} });
conformanceWf.addJobs({
  conformance: {
    runsOn: ['ubuntu-latest'],
    permissions: { contents: github.workflows.JobPermission.READ },
    steps: [
      { name: 'Checkout', uses: 'actions/checkout@v4', with: { path: 'main' } },
      { name: 'Checkout shared chart packages', uses: 'actions/checkout@v4', with: { repository: '${{ github.repository_owner }}/shared', path: 'shared' } },
      { name: 'Setup Node.js', uses: 'actions/setup-node@v4', with: { 'node-version': '22.x' } },
      { name: 'Install', run: 'npm install --no-audit --no-fund', workingDirectory: 'main' },
      { name: 'Compile', run: 'npx projen compile', workingDirectory: 'main' },
      { name: 'Conformance (render every Helm release, validate, reachability)', run: 'npx projen conformance', workingDirectory: 'main', env: { CI: 'true' } },
    ],
  },
});

const releaseWf = gh.addWorkflow('release');
releaseWf.on({ push: { branches: ['main'] } });
releaseWf.addJobs({
  release: {
    runsOn: ['ubuntu-latest'],
    permissions: {
      contents: github.workflows.JobPermission.WRITE,
      issues: github.workflows.JobPermission.WRITE,
      pullRequests: github.workflows.JobPermission.WRITE,
      idToken: github.workflows.JobPermission.WRITE,
    },
    steps: [
      { name: 'Checkout', uses: 'actions/checkout@v4', with: { 'fetch-depth': 0 } },
      { name: 'Setup Node.js', uses: 'actions/setup-node@v4', with: { 'node-version': '22.x', 'registry-url': 'https://registry.npmjs.org' } },
      { name: 'Install', run: 'npm install --no-audit --no-fund' },
      { name: 'Build', run: 'npx projen build', env: { CI: 'true' } },
      {
        name: 'Release',
        run: 'npx semantic-release',
        env: {
          GITHUB_TOKEN: '${{ secrets.GITHUB_TOKEN }}',
          NPM_TOKEN: '${{ secrets.NPM_TOKEN }}',
          NPM_CONFIG_PROVENANCE: 'true',
        },
      },
    ],
  },
});

// Deploys an example for real: manual dispatch, protected `example` environment, OIDC role (FxGithubDeployRole).
const deployWf = gh.addWorkflow('deploy-example');
deployWf.on({
  workflowDispatch: {
    inputs: {
      example: { description: 'Example app to deploy', required: true, type: 'choice', options: ['platform', 'dev'], default: 'platform' },
    },
  },
});
deployWf.addJobs({
  deploy: {
    runsOn: ['ubuntu-latest'],
    environment: { name: 'example', url: 'https://api.fx.example.com/orders' },
    concurrency: { group: 'deploy-example', cancelInProgress: false },
    permissions: { idToken: github.workflows.JobPermission.WRITE, contents: github.workflows.JobPermission.READ },
    env: {
      FX_ACCOUNT: '${{ vars.FX_ACCOUNT }}',
      FX_REGION: '${{ vars.FX_REGION }}',
    },
    steps: [
      { name: 'Checkout', uses: 'actions/checkout@v4' },
      { name: 'Setup Node.js', uses: 'actions/setup-node@v4', with: { 'node-version': '22.x' } },
      { name: 'Install', run: 'npm install --no-audit --no-fund' },
      {
        name: 'Assume the deploy role (OIDC, no stored keys)',
        uses: 'aws-actions/configure-aws-credentials@v4',
        with: { 'role-to-assume': '${{ vars.FX_DEPLOY_ROLE_ARN }}', 'aws-region': '${{ vars.FX_REGION }}', 'role-session-name': 'fx-deploy-${{ github.run_id }}' },
      },
      {
        name: 'cdk deploy',
        run: 'npx cdk deploy --all --require-approval never --app "npx ts-node --transpile-only --project examples/tsconfig.json examples/${{ inputs.example }}/main.ts"',
      },
      {
        name: 'Smoke test the public endpoint',
        // The route must answer over valid TLS; without a token the service answers 401, which proves
        // DNS, certificate, load balancer, Traefik and the pods are all in the path.
        run: [
          'host=${{ inputs.example == \'dev\' && \'api.dev.fx.example.com\' || \'api.fx.example.com\' }}',
          'for i in $(seq 1 30); do',
          '  code=$(curl -sS -o /dev/null -w "%{http_code}" "https://$host/orders" || true)',
          '  echo "attempt $i: HTTP $code"',
          '  if [ "$code" = "401" ]; then exit 0; fi',
          '  sleep 20',
          'done',
          'echo "the orders route never answered 401 over TLS"; exit 1',
        ].join('\n'),
      },
    ],
  },
});

new TextFile(project, '.github/CODEOWNERS', {
  lines: [
    '# Reviews required by the main branch ruleset come from these owners.',
    '*                   @fx-orleans/platform-maintainers',
    '/src/database/      @fx-orleans/platform-maintainers @fx-orleans/data',
    '/.github/           @fx-orleans/platform-maintainers',
  ],
});

addGovernance(project);

project.synth();
