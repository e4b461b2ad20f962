import { defineConfig } from "tsup";

// dist/main.js (the command) and dist/app.js (startApp, for tests and scripts); dependencies stay imports.
export default defineConfig({
	entry: ["src/main.ts", "src/app.ts"],
	format: ["esm"],
	clean: true,
	platform: "node",
	target: "node20",
});
