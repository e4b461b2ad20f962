import { defineConfig } from "tsup";

// dist/main.js, the command; dependencies (the room in @x/example-chat-room, the runner) stay imports.
export default defineConfig({
	entry: ["src/main.ts"],
	format: ["esm"],
	clean: true,
	platform: "node",
	target: "node20",
});
