import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Imports run only down the data path (README, "The data path"): a room may use the ground floor
 * (lib/) and the rooms before it, never one after it. A stair that runs back up fails the lint.
 */
const ROOMS = ['lib', 'devices', 'broker', 'ingest', 'store', 'accounting', 'flows', 'app', 'cli'];
const PATH = ROOMS.join(' → ');
const importBoundaries = ROOMS.map((room, i) => ({
  files: [`${room}/**/*.ts`],
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: ROOMS.slice(i + 1).map((later) => ({
          group: [`../**/${later}/**`, `../${later}/**`],
          message: `${room}/ may not import ${later}/: imports run down the data path (${PATH}). Move what both need down to the room that owns it, or pass it in.`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'app/http/public/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...importBoundaries,
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
