#!/usr/bin/env node
/**
 * `node bench/src/profile.mjs [runner] [http|ws|both]` (after a build): runs one Node runner
 * (`ours-node` by default, or `reference`, `floor`) under `node --cpu-prof` with the HTTP and/or WS workload, then
 * prints where its CPU went: self time by function, time by code area, and inclusive time of our core's functions.
 * The profile is kept in `bench/.profiles/` for a closer look (Chrome DevTools → Performance → load profile).
 *
 * @module
 */
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { RUNNERS_UNDER_TEST, startRunner } from "./child.mjs";
import { startBenchEngine } from "./engine.mjs";
import { closeAll, echoLoad, httpLoad, openSockets } from "./load.mjs";
import { BENCH_DIR } from "./paths.mjs";
import { createActor } from "./phases.mjs";

const runnerId = process.argv[2] ?? "ours-node";
const workload = process.argv[3] ?? "both";
const HTTP_REQUESTS = Number(process.env.PROFILE_HTTP ?? 1500);
const WS_MESSAGES_PER_SOCKET = Number(process.env.PROFILE_WS ?? 600);

/** Where a function's code lives, from its script URL. */
function area(url) {
	if (!url) return "(native/VM)";
	if (url.includes("/packages/core/")) return "ours: packages/core";
	if (url.includes("/packages/node/")) return "ours: packages/node";
	if (url.includes("engine-runner-protocol") || url.includes("bare-ts")) return "protocol codec";
	if (url.includes("/engine-runner/")) return "reference runner";
	if (url.includes("virtual-websocket")) return "reference runner";
	if (url.includes("/ws/")) return "ws library";
	if (url.includes("/bench/")) return "bench app";
	if (url.startsWith("node:internal/deps/undici")) return "undici (Request/Response/Headers/streams)";
	if (url.startsWith("node:internal/webstreams")) return "web streams";
	if (url.startsWith("node:")) return `node: ${url.slice(5).split("/").slice(0, 2).join("/")}`;
	return url;
}

/** Summarizes a `.cpuprofile`: self time per function and area, inclusive time of our core's functions. */
export function summarizeProfile(profile, top = 25) {
	const byId = new Map(profile.nodes.map((node) => [node.id, node]));
	const parent = new Map();
	for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
	const self = new Map();
	const areas = new Map();
	const inclusive = new Map();
	let total = 0;
	for (let i = 0; i < profile.samples.length; i++) {
		const dt = profile.timeDeltas[i] ?? 0;
		const node = byId.get(profile.samples[i]);
		if (!node) continue;
		const { functionName, url, lineNumber } = node.callFrame;
		if (functionName === "(idle)" || (functionName === "(program)" && false)) continue;
		total += dt;
		const name = `${functionName || "(anonymous)"} ${area(url)}:${lineNumber + 1}`;
		self.set(name, (self.get(name) ?? 0) + dt);
		areas.set(area(url), (areas.get(area(url)) ?? 0) + dt);
		const seen = new Set();
		for (let id = node.id; id !== undefined; id = parent.get(id)) {
			const frame = byId.get(id).callFrame;
			if (!frame.url.includes("/packages/")) continue;
			const key = `${frame.functionName || "(anonymous)"} ${area(frame.url)}:${frame.lineNumber + 1}`;
			if (seen.has(key)) continue;
			seen.add(key);
			inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
		}
	}
	const rows = (map) =>
		[...map]
			.sort((a, b) => b[1] - a[1])
			.slice(0, top)
			.map(
				([name, us]) =>
					`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`,
			);
	return { totalMs: total / 1000, self: rows(self), areas: rows(areas), inclusive: rows(inclusive) };
}

async function main() {
	const spec = RUNNERS_UNDER_TEST.find((r) => r.id === runnerId);
	if (spec?.runtime !== "node") throw new Error(`profile a Node runner: ours-node, reference or floor`);
	const dir = join(BENCH_DIR, ".profiles");
	await mkdir(dir, { recursive: true });
	const before = new Set(await readdir(dir));
	const engine = await startBenchEngine();
	try {
		const runnerName = `profile-${runnerId}-${Date.now()}`;
		await engine.api.upsertRunnerConfig(runnerName);
		const profiled = { ...spec, args: ["--cpu-prof", `--cpu-prof-dir=${dir}`, ...spec.args] };
		const child = await startRunner(profiled, { endpoint: engine.endpoint, runnerName, totalSlots: 1000 });
		const ctx = { engine, child, runnerName };
		try {
			if (workload !== "ws") {
				const actor = await createActor(ctx);
				const t0 = performance.now();
				await httpLoad(engine.api.gatewayUrl(actor.actorId, "/"), HTTP_REQUESTS, 32);
				console.log(`${HTTP_REQUESTS} HTTP requests in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
			}
			if (workload !== "http") {
				const actor = await createActor(ctx);
				const sockets = await openSockets(16, () => engine.api.gatewayWebSocketUrl(actor.actorId, "/echo"));
				const t0 = performance.now();
				await echoLoad(sockets, WS_MESSAGES_PER_SOCKET, 8);
				console.log(
					`${16 * WS_MESSAGES_PER_SOCKET} WS echoes in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
				);
				closeAll(sockets);
			}
		} finally {
			await child.stop();
		}
	} finally {
		await engine.stop();
	}
	const written = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile") && !before.has(f));
	if (written.length === 0) throw new Error("the runner wrote no profile");
	const file = join(dir, written.sort().at(-1));
	const summary = summarizeProfile(JSON.parse(await readFile(file, "utf8")));
	console.log(`\nprofile ${file} (${summary.totalMs.toFixed(0)} ms sampled, idle excluded)`);
	console.log("\nby area (self time):");
	for (const line of summary.areas) console.log(line);
	console.log("\ntop functions (self time):");
	for (const line of summary.self) console.log(line);
	console.log("\nour/workspace functions (inclusive time):");
	for (const line of summary.inclusive) console.log(line);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href)
	main().catch((error) => {
		console.error(error);
		process.exitCode = 1;
	});
