import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', '.kubelease/', 'dist/'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['lib/domain/**/*.ts', 'lib/engine/**/*.ts', 'lib/ports.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['@aws-sdk/*', 'aws-lambda', '@types/aws-lambda', '@middy/*', '@aws-lambda-powertools/*', 'aws-cdk-lib', 'aws-cdk-lib/*'],
            message: 'lib/domain and lib/engine stay free of AWS SDK, Lambda and middy types (DESIGN.md, Layout).' },
        ],
      }],
    },
  },
  {
    files: ['lib/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['../*', '!./*'], message: 'lib/domain imports nothing outside lib/domain.' },
          { group: ['@aws-sdk/*', 'aws-lambda', '@middy/*', '@aws-lambda-powertools/*', '@kubernetes/*'], message: 'lib/domain is pure.' },
        ],
      }],
    },
  },
);
