import { defineConfig } from "tsup";

export default defineConfig({
	entry: ["src/index.ts", "src/compat.ts"],
	format: ["esm"],
	dts: true,
	clean: true,
	sourcemap: true,
	platform: "neutral",
	target: "es2022",
	external: ["@x/runner-core", "@x/runner-core/compat", "pino"],
});
