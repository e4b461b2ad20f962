import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { childrenOf, isAlive, waitFor } from "./helpers.ts";

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, "fixtures", "start-and-wait.mjs");
const repoBin = join(here, "..", "..", "..", "node_modules");
const bun = join(repoBin, "bun", "bin", "bun.exe");
const deno = join(repoBin, "deno", "deno");

interface Started {
	child: ChildProcess;
	pid: number;
	dataDir: string;
}

const children: ChildProcess[] = [];
afterEach(() => {
	for (const child of children.splice(0))
		if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** Runs the fixture with `command args`, resolving once it printed the engine pid. */
function startFixture(command: string, args: string[]): Promise<Started> {
	const child = spawn(command, [...args, fixture], {
		cwd: join(here, ".."),
		stdio: ["ignore", "pipe", "pipe"],
		env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" },
	});
	children.push(child);
	return new Promise((resolve, reject) => {
		let out = "";
		let err = "";
		child.stderr?.on("data", (chunk: Buffer) => {
			err += chunk.toString();
		});
		child.stdout?.on("data", (chunk: Buffer) => {
			out += chunk.toString();
			const line = out.split("\n").find((l) => l.startsWith("{"));
			if (line) resolve({ child, ...(JSON.parse(line) as { pid: number; dataDir: string }) });
		});
		child.once("exit", (code) => reject(new Error(`fixture exited with ${code}: ${err}`)));
	});
}

async function expectEngineDiesWithParent(command: string, args: string[]): Promise<void> {
	const { child, pid, dataDir } = await startFixture(command, args);
	expect(isAlive(pid)).toBe(true);
	child.kill("SIGKILL");
	expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
	// The supervisor also removes the temp storage the dead parent can no longer remove.
	expect(await waitFor(() => !existsSync(dataDir), 5000)).toBe(true);
}

describe("parent-death watchdog", () => {
	it("kills the engine when the Node parent is SIGKILLed", async () => {
		await expectEngineDiesWithParent(process.execPath, []);
	});

	it.skipIf(!existsSync("/proc/self/stat"))(
		"also cleans up when the parent dies while the engine is starting",
		async () => {
			const child = spawn(process.execPath, [fixture], { stdio: "ignore" });
			children.push(child);
			let supervisor: { pid: number; cmdline: string[] } | undefined;
			let engine: { pid: number; cmdline: string[] } | undefined;
			const found = await waitFor(() => {
				supervisor = childrenOf(child.pid ?? -1).find((c) => c.cmdline.includes("x-dev-engine-supervisor"));
				engine =
					supervisor &&
					childrenOf(supervisor.pid).find((c) => c.cmdline.some((a) => a.endsWith("rivet-engine")));
				return engine !== undefined;
			}, 10_000);
			expect(found).toBe(true);
			const tempDirs = (supervisor?.cmdline ?? []).filter(
				(a) => a.startsWith("/") && /\/x-dev-engine-[^/]*$/.test(a),
			);
			expect(tempDirs).toHaveLength(2);
			child.kill("SIGKILL"); // the engine is still starting: startEngine() has not resolved yet
			expect(await waitFor(() => !isAlive(engine?.pid ?? -1), 5000)).toBe(true);
			expect(await waitFor(() => tempDirs.every((d) => !existsSync(d)), 5000)).toBe(true);
		},
	);

	it.skipIf(!existsSync(bun))("kills the engine when a Bun parent is SIGKILLed", async () => {
		await expectEngineDiesWithParent(bun, []);
	});

	it.skipIf(!existsSync(deno))("kills the engine when a Deno parent is SIGKILLed", async () => {
		await expectEngineDiesWithParent(deno, ["run", "-A", "--no-lock", "--node-modules-dir=manual"]);
	});
});
