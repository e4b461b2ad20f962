#!/usr/bin/env node
// Makes sure Debian's Chromium is at /usr/bin/chromium for the browser test (playwright-core drives it; Playwright's
// own browser download does not work here). Installs it with apt-get when it is missing and we are root; otherwise
// prints one line saying what to do and exits 0, so the browser test can report the missing browser itself.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const CHROMIUM = "/usr/bin/chromium";

function has(command) {
	return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

function run(command, args) {
	const result = spawnSync(command, args, {
		stdio: ["ignore", "pipe", "pipe"],
		env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
		encoding: "utf8",
	});
	if (result.status !== 0) {
		const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
		throw new Error(`${command} ${args.join(" ")} exited with ${result.status}\n${output}`);
	}
}

if (existsSync(CHROMIUM)) process.exit(0);

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (!isRoot || !has("apt-get")) {
	process.stdout.write(
		`ensure-chromium: ${CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium)\n`,
	);
	process.exit(0);
}

process.stdout.write("ensure-chromium: installing Debian's chromium package with apt-get… ");
const started = Date.now();
try {
	run("apt-get", ["update", "-qq"]);
	run("apt-get", ["install", "-y", "-qq", "chromium"]);
} catch (error) {
	process.stderr.write(`failed\nensure-chromium: ${error.message}\n`);
	process.exit(1);
}
if (!existsSync(CHROMIUM)) {
	process.stderr.write(`failed\nensure-chromium: apt-get finished but ${CHROMIUM} is still missing\n`);
	process.exit(1);
}
process.stdout.write(`done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
