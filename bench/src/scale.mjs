#!/usr/bin/env node
/**
 * Memory at full scale, against the protocol fake engine (`fake-engine.mjs`) instead of the real one, which on a
 * 2-core machine creates about 4 actors/s and opens 20–80 client WebSockets/s: too slow for 1,000 idle actors and
 * 10,000 open hibernatable sockets per runner. Each runner gets its own fake and its own process:
 *
 *   warm-up (`scaleWarmActors` actors; `scaleWarmSockets` hibernatable sockets opened, one echoed, all closed)
 *   → GC baseline → `scaleActors` actors started → GC: heap and RSS per idle actor
 *   → one probe socket echoes `scaleFakeMessages` messages (ping-pong) alone, again with `scaleCpuSockets` sockets open
 *     on the actor, and again with all `scaleSockets` open: runner CPU per message at each size
 *   → `scaleSockets` hibernatable sockets opened on one actor → GC: heap and RSS per open socket
 *   → one message echoed (and acknowledged) on the first and the last socket, to prove they are live;
 *   then, for Node runners, a second short pass in a new process: heap snapshots around `scaleActors` idle actors;
 *   and a last pass in a new process: runner CPU per tunnelled HTTP request (`http-cpu.mjs`).
 *
 * `node bench/src/scale.mjs [runnerId…]` runs only this phase (all runners by default) and prints the figures;
 * `BENCH_SCALE_ACTORS` and `BENCH_SCALE_SOCKETS` set the sizes.
 *
 * @module
 */

import { rmSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { cpuDuring, delay, RUNNERS_UNDER_TEST } from "./child.mjs";
import { withFakeEngine } from "./fake-engine.mjs";
import { heapGrowth } from "./heap-diff.mjs";
import { httpCpuPhase } from "./http-cpu.mjs";
import { loadParams } from "./params.mjs";
import { median } from "./stats.mjs";

/** Polls the runner's `usage` until `check(usage)` holds. */
async function until(child, check, what, timeoutMs = 60_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const usage = await child.call("usage");
		if (check(usage)) return usage;
		if (Date.now() > deadline)
			throw new Error(`timed out waiting for ${what} (runner reports ${JSON.stringify(usage)})`);
		await delay(50);
	}
}

const seconds = (since) => (performance.now() - since) / 1000;

/** `after - before`, or NaN when the runner could not measure it (a NaN arrives as null through JSON). */
const grown = (before, after) =>
	typeof before === "number" && typeof after === "number" ? after - before : Number.NaN;

/**
 * Runner CPU (µs) per message: the median of three rounds of `count` messages echoed one at a time (ping-pong) on
 * socket `handle`, after half as many unmeasured ones. The warm-up matters after the sockets are opened and
 * collected: V8 drops the compiled code of functions idle through several full GCs, and opening thousands of sockets
 * changes what the echo path's code was optimised for, so the first messages after that pay for compiling it again,
 * which is not a cost of open sockets. Three rounds, because one round moves by a quarter on this shared machine.
 */
async function cpuPerEcho(child, engine, handle, count) {
	const echo = async (n) => {
		for (let i = 0; i < n; i++) await engine.sockets.echo(handle, { waitForAck: false });
	};
	await echo(count / 2);
	const rounds = [];
	for (let round = 0; round < 3; round++) rounds.push((await cpuDuring(child, () => echo(count))) / count);
	return median(rounds);
}

/**
 * The phase for one runner. Always stops the runner and the fake, also on failure.
 * @param {(typeof RUNNERS_UNDER_TEST)[number]} spec
 * @param {import("./params.mjs").Params} p
 * @param {(line: string) => void} [log]
 * @returns {Promise<Record<string, number>>}
 */
export async function scalePhase(spec, p, log = () => {}) {
	const started = performance.now();
	const figures = await withFakeEngine(spec, `scale-${spec.id}`, async (child, engine, fake) => {
		const socketActor = await warmUp(child, engine, p);
		const base = await child.call("gc", 60_000);

		const t0 = performance.now();
		await engine.startActors(p.scaleActors, { batch: 100 });
		await until(child, (u) => u.actors >= base.actors + p.scaleActors, "the runner to count its actors");
		const actorsS = seconds(t0);
		await delay(1000);
		const afterActors = await child.call("gc", 60_000);
		const actors = afterActors.actors - base.actors;

		// Per-message cost with 1, 1,000 and all sockets open on the actor: one probe socket echoes alone, then with
		// the others open (they are part of the memory figure below; the probe's own share is negligible).
		const [probe] = await engine.sockets.open(socketActor, 1, { batch: 1 });
		await cpuPerEcho(child, engine, probe, p.scaleFakeMessages); // warm-up: the echo path gets optimised first
		const cpu1 = await cpuPerEcho(child, engine, probe, p.scaleFakeMessages);
		const t1 = performance.now();
		const first = await engine.sockets.open(socketActor, p.scaleCpuSockets - 1, { batch: p.scaleOpenBatch });
		const cpuMid = await cpuPerEcho(child, engine, probe, p.scaleFakeMessages);
		const rest = await engine.sockets.open(socketActor, p.scaleSockets - p.scaleCpuSockets, {
			batch: p.scaleOpenBatch,
		});
		const sockets = [probe, ...first, ...rest];
		await until(
			child,
			(u) => u.sockets >= afterActors.sockets + p.scaleSockets,
			"the runner to count its sockets",
		);
		const socketsS = seconds(t1);
		await delay(1000);
		const afterSockets = await child.call("gc", 60_000);
		const count = afterSockets.sockets - afterActors.sockets;
		const cpuAll = await cpuPerEcho(child, engine, probe, p.scaleFakeMessages);

		// After the measurement, so that the check itself costs nothing in it: the sockets are really open.
		await engine.sockets.echo(sockets[0]);
		await engine.sockets.echo(sockets[sockets.length - 1]);
		if (fake.unexpectedHttp.length > 0)
			log(`    ${spec.id} made HTTP requests the fake does not serve: ${fake.unexpectedHttp.join(", ")}`);
		log(
			`    ${spec.id}: ${actors} actors up in ${actorsS.toFixed(1)} s, ${count} hibernatable sockets open in ${socketsS.toFixed(1)} s (fake engine)`,
		);
		return {
			fakeIdleHeapPerActor: (afterActors.heapData - base.heapData) / actors,
			fakeIdleRssPerActor: (afterActors.rss - base.rss) / actors,
			fakeIdleYoungPerActor: grown(base.youngGeneration, afterActors.youngGeneration) / actors,
			fakeHibHeapPerSocket: (afterSockets.heapData - afterActors.heapData) / count,
			fakeHibRssPerSocket: (afterSockets.rss - afterActors.rss) / count,
			fakeHibYoungPerSocket: grown(afterActors.youngGeneration, afterSockets.youngGeneration) / count,
			fakeCpu1Us: cpu1,
			fakeCpuMidUs: cpuMid,
			fakeCpuAllUs: cpuAll,
			fakeCpuMidRatio: cpuMid / cpu1,
			fakeCpuAllRatio: cpuAll / cpu1,
			fakeActorsS: actorsS,
			fakeSocketsS: socketsS,
		};
	});
	figures.fakeIdleDataPerActor = spec.runtime === "node" ? await idleDataPerActor(spec, p, log) : Number.NaN;
	Object.assign(figures, await httpCpuPhase(spec, p));
	figures.fakePhaseS = seconds(started);
	return figures;
}

/** Warm-up: the start, open, message and close paths run (and are compiled) before the baseline. */
async function warmUp(child, engine, p) {
	const [socketActor] = await engine.startActors(p.scaleWarmActors);
	const warm = await engine.sockets.open(socketActor, p.scaleWarmSockets, { batch: p.scaleOpenBatch });
	await engine.sockets.echo(warm[0]);
	engine.sockets.close(warm);
	await until(child, (u) => u.sockets === 0 && u.actors >= p.scaleWarmActors, "the warm-up to settle");
	await delay(500);
	return socketActor;
}

/**
 * Bytes of heap data per idle actor, counted in V8 heap snapshots taken before and after `scaleActors` actors start
 * (`heap-diff.mjs`): exact, where heap used after a GC also holds whatever the collector left. A pass of its own, in a
 * new runner process, because writing a snapshot grows the process's RSS, which the main pass measures. Node only.
 */
async function idleDataPerActor(spec, p, log) {
	const files = [];
	try {
		return await withFakeEngine(spec, `data-${spec.id}`, async (child, engine) => {
			await warmUp(child, engine, p);
			const snapshot = async () => {
				const { file } = await child.call("snapshot", 120_000);
				files.push(file);
				return file;
			};
			const before = await snapshot();
			const { actors: was } = await child.call("usage");
			await engine.startActors(p.scaleActors, { batch: 100 });
			const done = (u) => u.actors >= was + p.scaleActors;
			const { actors } = await until(child, done, "the runner to count its actors");
			await delay(1000);
			return heapGrowth(before, await snapshot()).data / (actors - was);
		});
	} finally {
		if (process.env.BENCH_HEAP_SNAPSHOTS === "1")
			for (const file of files) log(`    heap snapshot kept: ${file}`);
		else for (const file of files) rmSync(file, { force: true });
	}
}

/** `node bench/src/scale.mjs [runnerId…]`: this phase alone, figures printed per runner. */
async function cli() {
	const p = loadParams();
	const ids = process.argv.slice(2);
	const unknown = ids.filter((id) => !RUNNERS_UNDER_TEST.some((r) => r.id === id));
	if (unknown.length > 0) {
		process.stderr.write(
			`unknown runner ${unknown.join(", ")}; known: ${RUNNERS_UNDER_TEST.map((r) => r.id).join(", ")}\n`,
		);
		return 2;
	}
	const runners = RUNNERS_UNDER_TEST.filter((r) => ids.length === 0 || ids.includes(r.id));
	const log = (line) => process.stdout.write(`${line}\n`);
	log(`memory at full scale (protocol fake engine): ${p.scaleActors} actors, ${p.scaleSockets} sockets`);
	let failed = 0;
	for (const spec of runners) {
		try {
			const f = await scalePhase(spec, p, log);
			const kib = (bytes) => (bytes / 1024).toFixed(2);
			log(
				`${spec.id}: data/actor ${f.fakeIdleDataPerActor.toFixed(0)} B, heap/actor ${kib(f.fakeIdleHeapPerActor)} KiB, RSS/actor ${kib(f.fakeIdleRssPerActor)} KiB, heap/socket ${kib(f.fakeHibHeapPerSocket)} KiB, RSS/socket ${kib(f.fakeHibRssPerSocket)} KiB (young generation ${kib(f.fakeHibYoungPerSocket)}), CPU/message ${f.fakeCpu1Us.toFixed(0)} µs with 1 socket, ${f.fakeCpuMidUs.toFixed(0)} µs with ${p.scaleCpuSockets}, ${f.fakeCpuAllUs.toFixed(0)} µs with ${p.scaleSockets}; CPU/HTTP request ${f.fakeHttpCpuUs.toFixed(0)} µs with ${p.fakeHttpInFlight} in flight (Fetch API objects ${f.fetchObjectsUs.toFixed(0)} µs), ${f.fakeHttpPacedCpuUs.toFixed(0)} µs one at a time (${f.fakePhaseS.toFixed(1)} s)`,
			);
		} catch (error) {
			failed++;
			log(`${spec.id}: FAILED ${error?.stack ?? error}`);
		}
	}
	return failed > 0 ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
	cli().then(
		(code) => {
			process.exitCode = code;
		},
		(error) => {
			process.stderr.write(`${error?.stack ?? error}\n`);
			process.exitCode = 1;
		},
	);
}
