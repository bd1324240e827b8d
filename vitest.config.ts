import { defineConfig } from 'vitest/config';

// Privileged suites (bpf, netns) share one kernel: run files one at a time so two suites never race on
// /sys/fs/bpf pins or on namespace names, and give real packet I/O room to finish.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
