import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["test/**/*.test.ts"],
		// Engine waits (see ENGINE_WAIT_MS in test/support.ts) are up to 60 s each, and a test may make several.
		testTimeout: 180_000,
		hookTimeout: 120_000,
		// Integration files each start a real engine; on two cores, running them side by side starves the engines.
		fileParallelism: false,
	},
});
