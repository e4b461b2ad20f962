import { defineConfig } from "tsup";

export default defineConfig({
	entry: ["src/index.ts", "src/compat.ts"],
	format: ["esm"],
	dts: true,
	clean: true,
	sourcemap: true,
	platform: "node",
	target: "node20",
	external: ["@x/runner-core", "@x/runner-core/compat", "ws", "pino"],
});
