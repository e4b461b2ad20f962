/**
 * The measured phases. Each takes a running runner child and the engine, creates its own actors in that runner's
 * pool, and returns plain numbers. CPU figures are the runner process's own CPU time (user + system, read inside it)
 * divided by the operations of the measured phase; warm-up traffic is never counted.
 *
 * @module
 */
import { delay } from "./child.mjs";
import { closeAll, echoLoad, echoOnce, httpLoad, openSocket, openSockets } from "./load.mjs";

/**
 * What every phase receives.
 * @typedef {{ engine: import("@x/dev-engine").EngineHandle, child: import("./child.mjs").RunnerChild,
 *   runnerName: string, p: import("./params.mjs").Params, log: (line: string) => void }} PhaseContext
 */

let actorCounter = 0;

/** Creates an actor in the runner's pool. */
export function createActor(ctx) {
	actorCounter++;
	return ctx.engine.api.createActor({
		name: "bench",
		key: `${ctx.runnerName}-${actorCounter}-${Math.random().toString(36).slice(2, 8)}`,
		runnerNameSelector: ctx.runnerName,
		crashPolicy: "sleep",
	});
}

/** CPU microseconds between two `usage` answers. */
function cpuBetween(before, after) {
	return after.user + after.system - (before.user + before.system);
}

/** Polls `check` until it returns true. */
async function until(check, what, timeoutMs = 60_000, everyMs = 50) {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await delay(everyMs);
	}
}

/**
 * Opens `count` sockets to `urlFor(i)` in batches, waiting after each batch until the runner reports them open: the
 * gateway accepts a client socket before the runner has answered, so without this the runner (and, for ours, the
 * engine's KV) would be handed an unbounded burst.
 */
async function openPaced(ctx, count, urlFor) {
	const base = (await ctx.child.call("usage")).sockets;
	const sockets = [];
	try {
		while (sockets.length < count) {
			const batch = Math.min(ctx.p.openConcurrency, count - sockets.length);
			const offset = sockets.length;
			sockets.push(...(await openSockets(batch, (i) => urlFor(offset + i), batch)));
			const target = base + sockets.length;
			await until(
				async () => (await ctx.child.call("usage")).sockets >= target,
				"the runner to open sockets",
				60_000,
				20,
			);
		}
	} catch (error) {
		closeAll(sockets);
		throw error;
	}
	return sockets;
}

/** Closes sockets and waits (up to 15 s, without failing) until the runner's open count is back to `count`. */
async function closeAndSettle(ctx, sockets, count) {
	closeAll(sockets);
	await until(
		async () => (await ctx.child.call("usage")).sockets <= count,
		"sockets to close",
		15_000,
		100,
	).catch(() => {});
}

/** Tunnelled HTTP at a fixed concurrency: CPU per request and requests per second. */
export async function httpPhase(ctx) {
	const { p } = ctx;
	const actor = await createActor(ctx);
	const url = ctx.engine.api.gatewayUrl(actor.actorId, "/");
	await httpLoad(url, p.httpWarmup, p.httpConcurrency);
	const before = await ctx.child.call("usage");
	const { ms, errors } = await httpLoad(url, p.httpRequests, p.httpConcurrency);
	const after = await ctx.child.call("usage");
	if (errors > 0) ctx.log(`    ${errors} HTTP errors`);
	return {
		httpCpuUs: cpuBetween(before, after) / p.httpRequests,
		httpRps: (p.httpRequests / ms) * 1000,
	};
}

/** WebSocket echo with `wsSockets` sockets, `wsInFlight` messages outstanding on each. */
export async function wsPhase(ctx) {
	const { p } = ctx;
	const actor = await createActor(ctx);
	const url = ctx.engine.api.gatewayWebSocketUrl(actor.actorId, "/echo");
	const sockets = await openSockets(p.wsSockets, () => url);
	try {
		await echoLoad(sockets, p.wsWarmupPerSocket, p.wsInFlight);
		const before = await ctx.child.call("usage");
		const { ms } = await echoLoad(sockets, p.wsPerSocket, p.wsInFlight);
		const after = await ctx.child.call("usage");
		const messages = p.wsSockets * p.wsPerSocket;
		return { wsCpuUs: cpuBetween(before, after) / messages, wsMps: (messages / ms) * 1000 };
	} finally {
		closeAll(sockets);
	}
}

/** Actor start latency: from the create call to the first tunnelled response. */
export async function startPhase(ctx) {
	const samples = [];
	const creates = [];
	for (let i = 0; i < ctx.p.startSamples; i++) {
		const t0 = performance.now();
		const actor = await createActor(ctx);
		creates.push(performance.now() - t0);
		const response = await fetch(ctx.engine.api.gatewayUrl(actor.actorId, "/"));
		await response.arrayBuffer();
		if (response.status !== 200) throw new Error(`first response was ${response.status}`);
		samples.push(performance.now() - t0);
	}
	samples.sort((a, b) => a - b);
	creates.sort((a, b) => a - b);
	return { startMs: samples[samples.length >> 1], createMs: creates[creates.length >> 1] };
}

/**
 * Open sockets on one actor: per-message CPU on one socket with that socket alone, then with `manySockets` open (the
 * others hibernatable and idle), and the memory each of those open hibernatable sockets costs (after a full GC).
 */
export async function socketsPhase(ctx) {
	const { p } = ctx;
	const actor = await createActor(ctx);
	const api = ctx.engine.api;
	const active = await openSocket(api.gatewayWebSocketUrl(actor.actorId, "/echo"));
	let idle = [];
	// One message in flight: every message is its own round trip (and wake-up of the runner) in both measurements, so
	// the engine slowing down with many sockets open does not change the work per message.
	const measure = async () => {
		const before = await ctx.child.call("usage");
		const { ms } = await echoLoad([active], p.scaleMessages, 1);
		const after = await ctx.child.call("usage");
		return { cpu: cpuBetween(before, after) / p.scaleMessages, rate: (p.scaleMessages / ms) * 1000 };
	};
	try {
		await echoLoad([active], p.scaleWarmup, 1);
		const one = await measure();
		// Warm-up of the open/close path of hibernatable sockets before the baseline.
		closeAll(await openPaced(ctx, 20, () => api.gatewayWebSocketUrl(actor.actorId, "/hib")));
		await until(async () => (await ctx.child.call("usage")).sockets <= 1, "warm-up sockets to close", 30_000);
		const base = await ctx.child.call("gc");
		const t0 = performance.now();
		const count = p.manySockets - 1;
		idle = await openPaced(ctx, count, () => api.gatewayWebSocketUrl(actor.actorId, "/hib"));
		ctx.log(`    ${count} hibernatable sockets open in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
		await delay(1000);
		const after = await ctx.child.call("gc", 60_000);
		await echoLoad([active], p.scaleWarmup, 1);
		const many = await measure();
		return {
			scale1CpuUs: one.cpu,
			scaleManyCpuUs: many.cpu,
			scaleRatio: many.cpu / one.cpu,
			scale1Mps: one.rate,
			scaleManyMps: many.rate,
			hibRssPerSocket: (after.rss - base.rss) / count,
			hibHeapPerSocket: (after.heapData - base.heapData) / count,
		};
	} finally {
		closeAll([active, ...idle]);
	}
}

/** Wake latency: an actor with `wakeSockets` hibernating sockets is put to sleep, then one socket sends a message. */
export async function wakePhase(ctx) {
	const { p } = ctx;
	const actor = await createActor(ctx);
	const api = ctx.engine.api;
	const before = (await ctx.child.call("usage")).sockets;
	const t0 = performance.now();
	const sockets = await openPaced(ctx, p.wakeSockets, () => api.gatewayWebSocketUrl(actor.actorId, "/hib"));
	const openRate = (p.wakeSockets / (performance.now() - t0)) * 1000;
	try {
		await Promise.all(sockets.map((socket) => echoOnce(socket)));
		// Our runner persists and acknowledges processed indices with a 100 ms debounce; let that settle.
		await delay(600);
		const response = await fetch(api.gatewayUrl(actor.actorId, "/sleep"));
		await response.arrayBuffer();
		await until(async () => (await api.getActor(actor.actorId))?.sleepTs != null, "the actor to sleep");
		await delay(p.wakeSettleMs);
		const wakeMs = await echoOnce(sockets[0]);
		return { wakeMs, openRate };
	} finally {
		await closeAndSettle(ctx, sockets, before);
	}
}

/** Memory per idle actor: `idleActors` started actors, after a full GC, over the baseline. */
export async function idleActorsPhase(ctx) {
	const { p } = ctx;
	// Warm-up: the start path runs (and is compiled) before the baseline, so the baseline holds only code, not actors.
	for (let i = 0; i < 10; i++) await createActor(ctx);
	await until(async () => (await ctx.child.call("usage")).actors >= 10, "warm-up actors to start");
	const base = await ctx.child.call("gc");
	let created = 0;
	const worker = async () => {
		while (created < p.idleActors) {
			created++;
			await createActor(ctx);
		}
	};
	const t0 = performance.now();
	await Promise.all(Array.from({ length: p.createConcurrency }, worker));
	const target = base.actors + p.idleActors;
	await until(async () => (await ctx.child.call("usage")).actors >= target, "actors to start", 300_000, 250);
	ctx.log(`    ${p.idleActors} actors up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
	await delay(1000);
	const after = await ctx.child.call("gc");
	const actors = after.actors - base.actors;
	return {
		idleRssPerActor: (after.rss - base.rss) / actors,
		idleHeapPerActor: (after.heapData - base.heapData) / actors,
	};
}
