import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/setup/global.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
          // One HarperDB serves every file; files run one after another so counters stay exact.
          fileParallelism: false,
        },
      },
    ],
  },
});
