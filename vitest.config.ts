import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The data-plane suite needs a kernel with ESP: it runs in the guest (npm run test:dataplane).
    exclude: ['test/dataplane/**', 'node_modules/**'],
    // Integration tests share the machine's kernel and CPU: one file at a time.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
