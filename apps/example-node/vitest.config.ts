import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["test/**/*.test.ts"],
		testTimeout: 120_000,
		hookTimeout: 60_000,
		// The browser test and the chat test each start their own engine; one at a time keeps a 2-core machine calm.
		fileParallelism: false,
	},
});
