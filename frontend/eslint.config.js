// ESLint for the web UI: the recommended Vue rules and typed TypeScript rules, tuned to flag what
// breaks (a promise nobody awaits, a misspelt prop, a variable never used) and nothing about
// layout or attribute order, which prettier owns (`npm run format`).
import js from '@eslint/js'
import { vueTsConfigs, withVueTs } from '@vue/eslint-config-typescript'
import skipFormatting from 'eslint-config-prettier/flat'
import pluginVue from 'eslint-plugin-vue'
import tseslint from 'typescript-eslint'

export default withVueTs(
  { ignores: ['dist/**', 'src/api/schema.d.ts'] },
  js.configs.recommended,
  pluginVue.configs['flat/recommended'],
  vueTsConfigs.recommendedTypeChecked,
  skipFormatting,
  {
    rules: {
      // the order of a tag's attributes and where its first one goes are taste, not mistakes
      'vue/attributes-order': 'off',
      'vue/first-attribute-linebreak': 'off',
      // its contextual check (typescript-eslint 8.7x) takes `reactive({ kind: 'deposit' as Kind })` for an
      // unneeded cast: removing it widens the field to string and vue-tsc fails
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // composables hand out functions as members, bound by design (`const { t, te } = useI18n()`)
      '@typescript-eslint/unbound-method': 'off',
      // `_` marks what is left out on purpose (`const { id: _id, ...rest } = row`)
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // a test mounts small components of its own
    files: ['src/__tests__/**'],
    rules: { 'vue/one-component-per-file': 'off' },
  },
  {
    // the build's own config files are outside the app's tsconfig
    files: ['*.config.{js,ts}'],
    ...tseslint.configs.disableTypeChecked,
  },
)
