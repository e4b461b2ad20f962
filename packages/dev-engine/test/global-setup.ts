// Some tests run the built package in child processes (watchdog fixture, CLI): build dist/ first when it
// is missing or older than the sources.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function mtime(path: string): number {
	try {
		return statSync(path).mtimeMs;
	} catch {
		return 0;
	}
}

export default function setup(): void {
	const newestSource = Math.max(
		...readdirSync(join(root, "src")).map((name) => mtime(join(root, "src", name))),
		mtime(join(root, "tsup.config.ts")),
	);
	const built = Math.min(mtime(join(root, "dist", "index.js")), mtime(join(root, "dist", "cli.js")));
	if (built >= newestSource) return;
	const require = createRequire(import.meta.url);
	const tsup = join(dirname(require.resolve("tsup/package.json")), "dist", "cli-default.js");
	const result = spawnSync(process.execPath, [tsup], { cwd: root, stdio: "inherit" });
	if (result.status !== 0) throw new Error("building dist/ for the tests failed");
}
