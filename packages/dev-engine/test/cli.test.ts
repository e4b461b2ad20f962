import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { findFreePorts } from "../src/index.ts";
import { isAlive } from "./helpers.ts";

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "bin", "rivet-dev-engine.js");
const dirs: string[] = [];
afterEach(async () => {
	await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe("rivet-dev-engine CLI", () => {
	it("prints the endpoint, serves until SIGINT, then stops cleanly", async () => {
		const [port] = await findFreePorts(1);
		const dataDir = join(await mkdtemp(join(tmpdir(), "dev-engine-cli-")), "data");
		dirs.push(dirname(dataDir));
		const child = spawn(process.execPath, [bin, "--port", String(port), "--data", dataDir], {
			stdio: ["ignore", "pipe", "pipe"],
		});
		try {
			let out = "";
			child.stdout.on("data", (chunk: Buffer) => {
				out += chunk.toString();
			});
			const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
			const deadline = Date.now() + 20_000;
			while (!/pid: \d+/.test(out) && Date.now() < deadline && child.exitCode === null) {
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
			expect(out).toContain(`endpoint: http://127.0.0.1:${port}`);
			const pid = Number(/pid: (\d+)/.exec(out)?.[1]);
			expect(isAlive(pid)).toBe(true);
			const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { status: string };
			expect(health.status).toBe("ok");

			child.kill("SIGINT");
			expect(await exited).toBe(0);
			expect(() => process.kill(pid, 0)).toThrow();
			expect(existsSync(dataDir)).toBe(true);
		} finally {
			if (child.exitCode === null) child.kill("SIGKILL");
		}
	});

	it("rejects unknown arguments", async () => {
		const child = spawn(process.execPath, [bin, "--bogus"], { stdio: ["ignore", "ignore", "pipe"] });
		let err = "";
		child.stderr.on("data", (chunk: Buffer) => {
			err += chunk.toString();
		});
		const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
		expect(code).toBe(2);
		expect(err).toContain('unknown argument "--bogus"');
	});
});
