import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each file in its own process: the simulator's CA is trusted process-wide.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers only contend.
    maxWorkers: 2,
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
