/**
 * What the figures were measured on: machine, runtimes, package versions, and how busy the machine was.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { BENCH_DIR, ROOT } from "./paths.mjs";

function run(command, args) {
	try {
		return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
	} catch {
		return "unknown";
	}
}

function packageVersion(dir) {
	try {
		return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
	} catch {
		return "unknown";
	}
}

function osName() {
	try {
		const line = readFileSync("/etc/os-release", "utf8")
			.split("\n")
			.find((l) => l.startsWith("PRETTY_NAME="));
		return line ? line.slice(13).replace(/"/g, "") : process.platform;
	} catch {
		return process.platform;
	}
}

/** Load averages (1, 5, 15 min) rounded to two decimals. */
export function load() {
	return loadavg().map((v) => Math.round(v * 100) / 100);
}

/** Machine, OS, runtimes and the versions of everything measured. */
export function describeMachine() {
	const bin = join(ROOT, "node_modules", ".bin");
	const modules = join(BENCH_DIR, "node_modules");
	const commit = run("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]);
	const dirty = run("git", ["-C", ROOT, "status", "--porcelain", "--", "packages"]) !== "";
	return {
		cpu: cpus()[0]?.model ?? "unknown",
		cores: cpus().length,
		ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
		os: osName(),
		node: process.version,
		bun: run(join(bin, "bun"), ["--version"]),
		deno: run(join(bin, "deno"), ["--version"]).split("\n")[0] ?? "unknown",
		ours: `${packageVersion(join(ROOT, "packages", "core"))} (git ${commit}${dirty ? ", packages/ modified" : ""})`,
		reference: packageVersion(join(modules, "@rivetkit", "engine-runner")),
		protocol: packageVersion(join(modules, "@rivetkit", "engine-runner-protocol")),
		engineCli: packageVersion(join(modules, "@rivetkit", "engine-cli")),
	};
}
