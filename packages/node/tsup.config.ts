import { defineConfig } from "tsup";

export default defineConfig({
	entry: ["src/index.ts"],
	format: ["esm"],
	dts: true,
	clean: true,
	sourcemap: true,
	platform: "node",
	target: "node20",
	external: ["@x/runner-core", "ws", "pino"],
});
