import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Vitest's default is one fork fewer than the cores, so a two-core CI machine ran one file at a
    // time. Most of the suite's time is spent waiting on servers, browsers and child processes, not
    // computing, so two files at once is the floor.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Debian programs some tests run: missing ones are skipped and named, or stop a CI run.
    globalSetup: ["test/support/tools-check.ts"],
  },
});
