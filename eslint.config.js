import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', '.wrangler/', 'coverage/', 'test/vectors/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='only'][callee.object.name=/^(it|test|describe)$/]", message: 'a focused test hides the rest of the suite' },
      ],
    },
  },
  {
    // node-forge never verifies anything (its RSA signature forgery history): it is confined to the PKCS#12 adapter.
    files: ['src/**/*.ts'],
    ignores: ['src/adapters/crypto/pkcs12*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'node-forge', message: 'node-forge stays inside the PKCS#12 adapter' }] }] },
  },
)
