#!/usr/bin/env node
// After `changeset version`: copy @x/runner-deno's package.json version into its deno.json (JSR reads deno.json),
// so the JSR release carries the same version as the npm packages it is versioned with.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "packages", "deno");
const { version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
const denoJsonPath = join(dir, "deno.json");
const denoJson = JSON.parse(readFileSync(denoJsonPath, "utf8"));
if (denoJson.version !== version) {
	denoJson.version = version;
	writeFileSync(denoJsonPath, `${JSON.stringify(denoJson, null, "\t")}\n`);
	console.log(`deno.json version → ${version}`);
}
