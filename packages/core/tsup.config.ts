import { defineConfig } from "tsup";

export default defineConfig({
	entry: ["src/index.ts", "src/compat/index.ts", "src/testing/index.ts"],
	format: ["esm"],
	dts: true,
	clean: true,
	sourcemap: true,
	platform: "neutral",
	target: "es2022",
});
