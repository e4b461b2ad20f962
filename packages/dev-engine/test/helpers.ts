import { readdirSync, readFileSync } from "node:fs";
import { type StartEngineOptions, startEngine } from "../src/index.ts";

/** True when `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
	} catch {
		return false;
	}
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
	} catch {
		return true;
	}
}

/** Polls `check` every 50 ms until it returns true; false after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (await check()) return true;
		if (Date.now() > deadline) return false;
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

/** Starts an engine that is expected to fail and returns the error (stops the engine if it started). */
export async function startFailure(options: StartEngineOptions): Promise<Error & { code?: string }> {
	let engine: Awaited<ReturnType<typeof startEngine>>;
	try {
		engine = await startEngine(options);
	} catch (err) {
		return err as Error & { code?: string };
	}
	await engine.stop();
	throw new Error("expected startEngine to reject");
}

/** Linux only: pids and command lines of the direct children of `pid` (read from /proc). */
export function childrenOf(pid: number): { pid: number; cmdline: string[] }[] {
	const children: { pid: number; cmdline: string[] }[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
			const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
			if (ppid !== pid) continue;
			const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
			children.push({ pid: Number(entry), cmdline });
		} catch {
			// the process went away meanwhile
		}
	}
	return children;
}
