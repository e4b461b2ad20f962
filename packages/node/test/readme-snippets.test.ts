import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type EngineHandle, startEngine } from "@x/dev-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, "..", "..", "..", "README.md"), "utf8");

/** The code block that follows `<!-- snippet:name -->` in the root README. */
function snippet(name: string): string {
	const match = new RegExp(`<!-- snippet:${name} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readme);
	if (!match?.[1]) throw new Error(`README has no snippet "${name}"`);
	return match[1];
}

/** Writes the snippet next to the package (so "@x/runner-node" resolves to itself) and runs it. */
function run(name: string, endpoint: string): { child: ChildProcess; output: () => string } {
	const dir = join(here, ".tmp");
	mkdirSync(dir, { recursive: true });
	const file = join(dir, `${name}.mjs`);
	writeFileSync(file, snippet(name));
	const child = spawn(process.execPath, [file], {
		env: { ...process.env, RIVET_ENDPOINT: endpoint, LOG_LEVEL: "warn" },
	});
	let output = "";
	child.stdout?.on("data", (chunk) => {
		output += String(chunk);
	});
	child.stderr?.on("data", (chunk) => {
		output += String(chunk);
	});
	return { child, output: () => output };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
	const end = Date.now() + timeoutMs;
	while (Date.now() < end) {
		if (await check()) return;
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	throw new Error("timed out");
}

const exited = (child: ChildProcess): Promise<number | null> =>
	new Promise((resolve) =>
		child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code)),
	);

let engine: EngineHandle;
const children: ChildProcess[] = [];
beforeAll(async () => {
	engine = await startEngine();
});
afterAll(async () => {
	for (const child of children) child.kill("SIGKILL");
	await engine?.stop();
});

describe("README snippets run as written", () => {
	it("quick start: serves a counting page and exits cleanly on SIGTERM", async () => {
		await engine.api.upsertRunnerConfig("quickstart");
		const { child, output } = run("quickstart", engine.endpoint);
		children.push(child);
		await until(() => output().includes("runner connected"));
		const actor = await engine.api.createActor({
			name: "visits",
			key: "readme",
			runnerNameSelector: "quickstart",
		});
		const first = await (await fetch(engine.api.gatewayUrl(actor.actorId, "/"))).text();
		const second = await (await fetch(engine.api.gatewayUrl(actor.actorId, "/"))).text();
		expect(first).toBe(`visit 1 to ${actor.actorId}\n`);
		expect(second).toBe(`visit 2 to ${actor.actorId}\n`);
		child.kill("SIGTERM");
		expect(await exited(child)).toBe(0);
		expect(output()).toContain(`actor ${actor.actorId} stopped`);
	});

	it("hibernation: commits each message exactly once and keeps the total in KV", async () => {
		await engine.api.upsertRunnerConfig("counter");
		const { child, output } = run("hibernation", engine.endpoint);
		children.push(child);
		const actor = await engine.api.createActor({
			name: "counter",
			key: "readme",
			runnerNameSelector: "counter",
		});
		const client = new WebSocket(engine.api.gatewayWebSocketUrl(actor.actorId, "/"), ["rivet"]);
		const replies: string[] = [];
		client.on("message", (data) => replies.push(String(data)));
		await new Promise((resolve, reject) => {
			client.once("open", resolve);
			client.once("error", reject);
		});
		for (const n of ["1", "2", "3"]) client.send(n);
		await until(() => replies.length === 3);
		expect(replies).toEqual(["1", "3", "6"]);
		const total = await engine.api.getKv(actor.actorId, new TextEncoder().encode("total"));
		expect(new TextDecoder().decode(total ?? new Uint8Array())).toBe("6");
		client.close();
		child.kill("SIGTERM");
		await exited(child);
		expect(output()).not.toContain("Error");
	});
});
