import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

const AWS_SDK = ['@aws-sdk/*', '@smithy/*', '@aws-crypto/*'];
const ANY = ['*'];

/**
 * The architecture, declared once (README "Layout", ../shared/DESIGN.md "Layout"): every file
 * belongs to the first part whose pattern matches it, and imports only from its own part, the
 * parts in `imports`, the npm packages in `packages` and the Node built-ins in `node`. Anything
 * else fails `npm run lint`; test/unit/architecture/ proves it with deliberately bad fixtures
 * and checks that README's layout table states these parts and imports.
 */
export const parts = [
  // pure: zod and yaml, and node:crypto's SHA-256 for lease hashes
  { type: 'domain', pattern: 'lib/domain/**', imports: [], packages: ['zod', 'yaml'], node: ['crypto'] },
  { type: 'ports', pattern: 'lib/ports.ts', imports: ['domain'], packages: [], node: [] },
  { type: 'engine', pattern: 'lib/engine/**', imports: ['domain', 'ports'], packages: ['p-limit'], node: [] },
  // facts the construct and the runtime share: table shapes, the route table, metric names, the client-node calls the bundles keep
  {
    type: 'shared',
    pattern: ['lib/tables.ts', 'lib/http/routes.ts', 'lib/lambda/metric-names.ts', 'lib/adapters/kubernetes/generated-calls.ts'],
    imports: [],
    packages: [],
    node: [],
  },
  // test doubles of the ports: never in a Lambda bundle
  { type: 'fakes', pattern: 'lib/adapters/memory/**', imports: ['domain', 'ports'], packages: [], node: ['crypto'] },
  // their SDKs; never the engine, http or lambda
  { type: 'adapters', pattern: 'lib/adapters/**', imports: ['domain', 'ports', 'shared'], packages: [...AWS_SDK, '@kubernetes/client-node', 'zod'], node: ANY },
  { type: 'http', pattern: 'lib/http/**', imports: ['domain', 'ports', 'engine', 'shared'], packages: [], node: [] },
  {
    type: 'lambda',
    pattern: 'lib/lambda/**',
    imports: ['domain', 'ports', 'engine', 'shared', 'adapters', 'http'],
    packages: [...AWS_SDK, '@aws-lambda-powertools/*', '@middy/*', 'aws-lambda'],
    node: ANY,
  },
  { type: 'local', pattern: 'lib/local/**', imports: ['domain', 'ports', 'engine', 'shared', 'adapters', 'http', 'lambda'], packages: ANY, node: ANY },
  // the kubelease client speaks HTTP: lib/http's shapes, nothing of the broker's insides
  { type: 'client', pattern: 'lib/cli/**', imports: ['http', 'shared'], packages: ANY, node: ANY },
  { type: 'functions', pattern: 'functions/**', imports: ['lambda'], packages: [], node: [] },
  // the construct: lib/domain for names and rules, the shared facts, CDK
  // esbuild: the Lambdas' bundler (infra/bundling.ts), for synth, build-package and the bench; typescript: its plugin's parser
  { type: 'infra', pattern: 'infra/**', imports: ['domain', 'shared'], packages: ['aws-cdk-lib', 'constructs', 'cdk-nag', 'zod', 'esbuild', 'typescript'], node: ANY },
  { type: 'scripts', pattern: 'scripts/**', imports: ['domain', 'local', 'infra', 'tests'], packages: ANY, node: ANY },
  { type: 'tests', pattern: ['test/**', '*.config.{js,ts}'], imports: ANY, packages: ANY, node: ANY },
];

/** Deployed code never reaches the local stack, the test doubles or CDK, whatever a part allows. */
export const DEPLOYED = ['domain', 'ports', 'engine', 'shared', 'adapters', 'http', 'lambda', 'functions'];

const toParts = (types) => ({ to: { file: { categories: { anyOf: types } } } });
const toModules = (origin, sources) => ({ to: { module: { origin, ...(sources === ANY ? {} : { source: sources.flatMap((s) => (origin === 'core' ? [s, `node:${s}`] : [s])) }) } } });
const nonEmpty = (sources) => sources.length > 0;

const policies = [
  ...parts.map((p) => ({
    from: { file: { categories: p.type } },
    allow: [
      toParts(p.imports === ANY ? parts.map((q) => q.type) : [p.type, ...p.imports]),
      ...(nonEmpty(p.packages) ? [toModules('external', p.packages)] : []),
      ...(nonEmpty(p.node) ? [toModules('core', p.node)] : []),
    ],
  })),
  {
    from: { file: { categories: { anyOf: DEPLOYED } } },
    disallow: [toParts(['local', 'fakes', 'tests', 'infra', 'scripts']), toModules('external', ['aws-cdk-lib', 'constructs', 'cdk-nag', 'esbuild'])],
    message: 'deployed code ({{from.file.categories}}) must not import the local stack, test doubles or CDK',
  },
];

export default tseslint.config(
  // test/fixtures/ holds deliberate violations: test/unit/architecture/ lints them
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', '.kubelease/', 'dist/', 'test/fixtures/'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // CommonJS on purpose (the CLI's bin and a test preload): require() is how they load
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    plugins: { boundaries },
    settings: {
      // file descriptors match the whole path from the root; the first match names the part
      'boundaries/files': parts.map(({ type, pattern }) => ({ category: type, pattern })),
      'boundaries/files-single-match': true,
      'import/resolver': { typescript: { alwaysTryTypes: true, project: './tsconfig.json' }, node: true },
    },
    rules: {
      'boundaries/dependencies': ['error', { default: 'disallow', checkAllOrigins: true, policies }],
      'boundaries/no-unknown-files': 'error',
    },
  },
);
