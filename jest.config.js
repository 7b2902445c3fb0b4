// ESM all the way: middy and @kubernetes/client-node ship ESM only, so jest runs with
// --experimental-vm-modules (see scripts/test.ts) and ts-jest emits ESM without type checks
// (`npm run typecheck` does those once, faster than per test file).
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
};
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform,
  testEnvironment: 'node',
};

export default {
  // integration tests wait on real RBAC caches and token-auth caches (tens of seconds)
  testTimeout: 120_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
      // started only when a test of this project runs (`npm test -- test/unit` starts no bed)
      globalSetup: '<rootDir>/test/support/bed-global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/bed-global-teardown.mjs',
      setupFilesAfterEnv: ['<rootDir>/test/support/reliability/drop-scratch-tables.ts'],
    },
    {
      // faults, crashes, races, fuzz, soak: real bed; every file's output is scanned for secrets
      ...common,
      displayName: 'reliability',
      testMatch: ['<rootDir>/test/reliability/**/*.test.ts'],
      // the same hooks as integration: jest runs a global hook path once, so both share one bed
      globalSetup: '<rootDir>/test/support/bed-global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/bed-global-teardown.mjs',
      setupFilesAfterEnv: ['<rootDir>/test/support/reliability/drop-scratch-tables.ts', '<rootDir>/test/support/reliability/setup.ts'],
    },
  ],
};
