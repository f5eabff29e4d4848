import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Debian programs some tests run: missing ones are skipped and named, or stop a CI run.
    globalSetup: ["test/support/tools-check.ts"],
  },
});
