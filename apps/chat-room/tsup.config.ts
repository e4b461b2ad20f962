import { defineConfig } from "tsup";

// For Node, which cannot import the .ts sources (Bun and Deno use src/ directly: see "exports" in package.json).
export default defineConfig({
	entry: ["src/index.ts"],
	format: ["esm"],
	dts: true,
	clean: true,
	sourcemap: true,
	platform: "neutral",
	target: "es2022",
});
