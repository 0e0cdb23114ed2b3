import { defineConfig } from 'vitest/config';

// The data-plane suite: only inside the guest (scripts/test-dataplane.sh).
export default defineConfig({
  test: {
    include: ['test/dataplane/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
    // The guest's TCG emulation is several times slower than this machine.
    teardownTimeout: 60_000,
  },
});
