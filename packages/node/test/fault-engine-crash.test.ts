/**
 * Engine crash under load: HTTP writes and hibernatable-socket messages flow through three actors (crash policy
 * "restart") while the engine is SIGKILLed and restarted on the same storage. Nothing the runner acknowledged may be
 * lost, no answered message may be applied twice (or not at all), the runner must come back by itself, and no actor
 * generation may be started twice. Clients reconnect their sockets once the engine is back (the gateway died with it).
 */
import { type EngineHandle, startEngine } from "@x/dev-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Runner, type TunnelWebSocket, utf8Decode, utf8Encode } from "../src/index.ts";
import {
	type Application,
	appliedKey,
	COUNTER_KEY,
	duplicates,
	EngineTracker,
	exactlyOnceHandler,
	GatewayClient,
	settled,
	sleep,
	uniquePool,
	waitFor,
} from "./fault-support.ts";
import { makeRunner, Recorder, shutdownAllRunners } from "./support.ts";

const engines = new EngineTracker();
let engine: EngineHandle;
beforeAll(async () => {
	engine = engines.add(await startEngine());
});
afterAll(async () => {
	await shutdownAllRunners();
	expect(await engines.stopAll()).toEqual([]);
});

const WINDOW = 8;

/** One client per actor that sends numbered messages every few ms and reopens its socket after a close. */
class SocketLoad {
	readonly clients: GatewayClient[] = [];
	openFailures = 0;
	#next = 0;
	constructor(
		readonly actorId: string,
		readonly tag: string,
	) {}

	async run(stopped: () => boolean): Promise<void> {
		while (!stopped()) {
			const current = this.clients.at(-1);
			if (!current || current.closed) {
				try {
					this.clients.push(await GatewayClient.open(engine, this.actorId, "/ws", 5_000));
				} catch {
					this.openFailures++;
					await sleep(300);
				}
				continue;
			}
			// At most WINDOW unanswered messages per socket, so the runner never falls far behind.
			if (current.sent.length - current.acked().length < WINDOW) current.send(`${this.tag}-${this.#next++}`);
			await sleep(25);
		}
	}

	sent(): string[] {
		return this.clients.flatMap((c) => c.sent);
	}

	acked(): string[] {
		return this.clients.flatMap((c) => c.acked());
	}
}

/** Sequential HTTP writes to one actor; `acked` holds the ids answered 200 `ok:<id>`. */
class HttpLoad {
	readonly acked: string[] = [];
	readonly failures = new Map<string, number>();
	sent = 0;
	constructor(
		readonly actorId: string,
		readonly tag: string,
	) {}

	async run(stopped: () => boolean): Promise<void> {
		while (!stopped()) {
			const id = `${this.tag}-h${this.sent++}`;
			try {
				const res = await fetch(engine.api.gatewayUrl(this.actorId, `/put/${id}`), {
					signal: AbortSignal.timeout(10_000),
				});
				const text = await res.text();
				if (res.status === 200 && text === `ok:${id}`) this.acked.push(id);
				else this.#fail(String(res.status));
			} catch {
				this.#fail("network");
				await sleep(200);
			}
		}
	}

	#fail(kind: string): void {
		this.failures.set(kind, (this.failures.get(kind) ?? 0) + 1);
	}
}

function failureTotals(loads: HttpLoad[]): Record<string, number> {
	const totals: Record<string, number> = {};
	for (const load of loads) for (const [kind, n] of load.failures) totals[kind] = (totals[kind] ?? 0) + n;
	return totals;
}

const httpKey = (id: string): Uint8Array => utf8Encode(`http/${id}`);

async function missingKeys(runner: Runner, actorId: string, keys: Uint8Array[]): Promise<number> {
	let missing = 0;
	for (let i = 0; i < keys.length; i += 100) {
		const values = await runner.kvGet(actorId, keys.slice(i, i + 100));
		missing += values.filter((v) => v === null).length;
	}
	return missing;
}

describe("engine crash under load", () => {
	it("keeps every acknowledged write, applies every answered message once, and reconnects by itself", async () => {
		const pool = uniquePool("fault-crash");
		await engine.api.upsertRunnerConfig(pool);
		const rec = new Recorder();
		const applications: Application[] = [];
		const serverSockets: Array<{ socket: TunnelWebSocket; requestId: string }> = [];
		const handler = exactlyOnceHandler(applications, "runner");
		const runner = makeRunner(engine, pool, {
			...rec.callbacks(),
			reconnect: { initialDelayMs: 200, maxDelayMs: 1_000 },
			canHibernate: () => true,
			// The engine was seen skipping indices in the burst it delivers after its restart: ask for a replay.
			hibernation: { commit: "manual", gapPolicy: "resync" },
			websocket: (socket, context) => {
				serverSockets.push({ socket, requestId: context.requestId });
				return handler(socket, context);
			},
			fetch: async (request, { actorId, runner }) => {
				const id = new URL(request.url).pathname.split("/").pop() ?? "";
				await runner.kvPut(actorId, [[httpKey(id), utf8Encode(id)]]);
				return new Response(`ok:${id}`);
			},
		});
		let stop = false;
		const loads: Array<Promise<void>> = [];
		let sockets: SocketLoad[] = [];
		try {
			await runner.start();
			const firstRunnerId = runner.runnerId;
			const ids: string[] = [];
			for (let i = 0; i < 3; i++) {
				const actor = await engine.api.createActor({
					name: "crash",
					key: `${pool}-${i}`,
					runnerNameSelector: pool,
					crashPolicy: "restart",
				});
				ids.push(actor.actorId);
			}
			await waitFor(() => ids.every((id) => runner.getActor(id)?.state === "running"), "actors running");
			sockets = ids.map((id, i) => new SocketLoad(id, `a${i}`));
			const http = ids.map((id, i) => new HttpLoad(id, `a${i}`));
			for (const load of [...sockets, ...http]) loads.push(load.run(() => stop));
			await waitFor(
				() => sockets.every((s) => s.acked().length >= 20) && http.every((h) => h.acked.length >= 10),
				"traffic flowing before the crash",
				30_000,
			);
			await sleep(5_000); // load for a while before the crash

			const killedAt = Date.now();
			await engine.kill();
			await sleep(1_000);
			await engine.restart();
			engines.note();
			const restartedAt = Date.now();
			const reconnect = await waitFor(
				() => rec.connects.find((c) => c.at > killedAt),
				"the runner reconnects by itself",
				45_000,
			);
			const ackedAtRestart = sockets.map((s) => s.acked().length);
			const httpAtRestart = http.map((h) => h.acked.length);
			await waitFor(
				() =>
					sockets.every((s, i) => s.clients.length >= 2 && s.acked().length >= ackedAtRestart[i]! + 20) &&
					http.every((h, i) => h.acked.length >= httpAtRestart[i]! + 10),
				"traffic flowing again after the restart (clients reopened their sockets)",
				60_000,
			).catch((error: unknown) => {
				console.log("state", {
					sockets: sockets.map((s) => ({
						clients: s.clients.length,
						acked: s.acked().length,
						fails: s.openFailures,
					})),
					http: http.map((h) => ({ acked: h.acked.length, failures: [...h.failures] })),
				});
				throw error;
			});
			await sleep(5_000); // and for a while after
			stop = true;
			await Promise.all(loads);
			// Let the last messages on the open sockets be answered.
			await waitFor(
				() => sockets.every((s) => s.clients.at(-1)!.acked().length === s.clients.at(-1)!.sent.length),
				"answers to everything sent on the reopened sockets",
				60_000,
			).catch(() => undefined);
			const unanswered = sockets.flatMap((s) => {
				const last = s.clients.at(-1)!;
				return last.sent.filter((id) => !last.acked().includes(id));
			});
			if (unanswered.length > 0)
				console.log(
					`unanswered on the reopened sockets: ${unanswered.slice(0, 20)} (${unanswered.length}); applied: ` +
						`${unanswered.filter((id) => applications.some((a) => a.id === id)).length}; ` +
						`closes ${sockets.map((s) => JSON.stringify(s.clients.at(-1)!.closed))}; metrics ${JSON.stringify(runner.webSocketMetrics)}`,
				);
			// Messages the runner got before the kill may still be being applied (their answers go nowhere).
			await settled(() => applications.length, 2_000, 30_000);

			let missingHttp = 0;
			let httpAcked = 0;
			let wsSent = 0;
			let wsAcked = 0;
			let applied = 0;
			const problems: string[] = [];
			for (const [i, actorId] of ids.entries()) {
				httpAcked += http[i]!.acked.length;
				missingHttp += await missingKeys(runner, actorId, http[i]!.acked.map(httpKey));
				const sent = sockets[i]!.sent();
				const acked = sockets[i]!.acked();
				wsSent += sent.length;
				wsAcked += acked.length;
				const markers = await runner.kvListPrefix(actorId, utf8Encode("applied/"));
				const markerIds = new Set(markers.map(([k]) => utf8Decode(k).slice("applied/".length)));
				applied += markerIds.size;
				const [counter] = await runner.kvGet(actorId, [COUNTER_KEY]);
				const count = Number(counter ? utf8Decode(counter) : "0");
				if (count !== markerIds.size)
					problems.push(`${actorId}: counter ${count} but ${markerIds.size} markers`);
				const unapplied = acked.filter((id) => !markerIds.has(id));
				if (unapplied.length > 0)
					problems.push(`${actorId}: answered but not applied: ${unapplied.join(",")}`);
				const foreign = [...markerIds].filter((id) => !sent.includes(id));
				if (foreign.length > 0) problems.push(`${actorId}: applied but never sent: ${foreign.join(",")}`);
				if (duplicates(acked).length > 0)
					problems.push(`${actorId}: answered twice: ${duplicates(acked).join(",")}`);
				// The marker's value is the counter at application: a message applied again would carry a later one.
				const appliedHere = applications.filter((a) => a.actorId === actorId);
				for (const a of appliedHere) {
					const [marker] = await runner.kvGet(actorId, [appliedKey(a.id)]);
					if (!marker || utf8Decode(marker) !== String(a.count))
						problems.push(
							`${actorId}: marker of ${a.id} is ${marker ? utf8Decode(marker) : "missing"}, applied as ${a.count}`,
						);
				}
			}
			const appliedTwice = duplicates(applications.map((a) => `${a.actorId}/${a.id}`));
			const startPairs = rec.starts.map((s) => `${s.actorId}:${s.generation}`);
			const reconnects = rec.connects.filter((c) => c.at > killedAt).length;
			// Sockets whose client died with the engine: the runner cannot tell (the gateway that knew them is gone).
			const zombies = serverSockets.filter((s) => s.socket.readyState === 1).length - sockets.length;
			console.log(
				`engine crash: sent ${wsSent} messages + ${http.reduce((n, h) => n + h.sent, 0)} HTTP writes, ` +
					`acknowledged ${wsAcked} messages + ${httpAcked} writes, applied ${applied}, ` +
					`duplicates ${appliedTwice.length}, missing writes ${missingHttp}, reconnects ${reconnects}, ` +
					`socket reopens ${sockets.reduce((n, s) => n + s.clients.length - 1, 0)}, ` +
					`starts ${startPairs.length} (${new Set(startPairs).size} distinct), ` +
					`HTTP failures ${JSON.stringify(failureTotals(http))}, ` +
					`engine down ${restartedAt - killedAt} ms, runner reconnected ${reconnect.at - killedAt} ms after the kill (same id: ${reconnect.runnerId === firstRunnerId}), ` +
					`server-side sockets of dead clients still open ${zombies}, index gaps resynced ${runner.webSocketMetrics.gaps}`,
			);
			expect(problems).toEqual([]);
			expect(unanswered).toEqual([]);
			expect(missingHttp).toBe(0);
			expect(appliedTwice).toEqual([]);
			expect(reconnect.reconnected || reconnect.runnerId !== firstRunnerId).toBe(true);
			expect(duplicates(startPairs)).toEqual([]);
			expect(applied).toBeGreaterThanOrEqual(wsAcked);
			for (const s of sockets) expect(s.clients.length).toBeGreaterThanOrEqual(2);
		} finally {
			stop = true;
			await Promise.allSettled(loads);
			for (const c of sockets.flatMap((s) => s.clients)) c.close();
			await runner.shutdown({ mode: "immediate" });
		}
	}, 240_000);
});
