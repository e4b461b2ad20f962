import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["test/**/*.test.ts"],
		testTimeout: 60_000,
		hookTimeout: 60_000,
		// Integration files each start a real engine; on two cores, running them side by side starves the engines.
		fileParallelism: false,
	},
});
