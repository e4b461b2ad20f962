/**
 * The engine is SIGKILLed and restarted on the same storage: the runner reconnects by itself, its actors serve again,
 * and no acknowledged KV write is lost. KV calls made while the engine is down either complete after it is back or
 * fail with a retryable error.
 */
import { type EngineHandle, startEngine } from "@x/dev-engine";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isRunnerError, type Runner, utf8Decode, utf8Encode } from "../src/index.ts";
import {
	createActor,
	ENGINE_TEST_TIMEOUT_MS,
	engineActor,
	gatewayFetch,
	makeRunner,
	Recorder,
	shutdownAllRunners,
	sleep,
	uniquePool,
	waitFor,
	waitRunning,
} from "./support.ts";

let engine: EngineHandle;
beforeAll(async () => {
	engine = await startEngine();
});
afterEach(async () => {
	await shutdownAllRunners();
});
afterAll(async () => {
	await shutdownAllRunners();
	await engine?.stop();
});

const key = (prefix: string, i: number): Uint8Array => utf8Encode(`${prefix}/${String(i).padStart(4, "0")}`);

/** A runner whose fetch answers `<generation>:<value of KV key "ack/0000">`. */
function recoveringRunner(pool: string, rec: Recorder, runnerLostTimeoutMs?: number): Runner {
	return makeRunner(engine, pool, {
		...rec.callbacks(),
		...(runnerLostTimeoutMs === undefined ? {} : { runnerLostTimeoutMs }),
		reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
		fetch: async (_request, { actorId, generation, runner }) => {
			const [value] = await runner.kvGet(actorId, [key("ack", 0)]);
			return new Response(`${generation}:${value ? utf8Decode(value) : "none"}`);
		},
	});
}

async function createRunningActors(pool: string, runner: Runner, count: number): Promise<string[]> {
	const ids: string[] = [];
	for (let i = 0; i < count; i++) {
		const actor = await createActor(engine, {
			name: "cr",
			key: `${pool}-${i}`,
			runnerNameSelector: pool,
			crashPolicy: "restart",
		});
		ids.push(actor.actorId);
	}
	for (const id of ids) await waitRunning(engine, runner, id);
	return ids;
}

/** Waits until the actor answers through the gateway (it may need to be rescheduled first). */
async function waitServing(actorId: string, timeoutMs: number): Promise<string> {
	return waitFor(
		async () => {
			const res = await gatewayFetch(engine, actorId, "/", {}, 10_000);
			return res.status === 200 ? res.text : null;
		},
		`actor ${actorId} serves through the gateway`,
		timeoutMs,
		250,
	);
}

describe("engine crash and restart", { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
	it("reconnects, serves again and keeps every acknowledged KV write; in-flight writes complete or fail retryably", async () => {
		const pool = uniquePool("crash");
		await engine.api.upsertRunnerConfig(pool);
		const rec = new Recorder();
		const runner = recoveringRunner(pool, rec);
		try {
			await runner.start();
			const firstRunnerId = runner.runnerId;
			const ids = await createRunningActors(pool, runner, 3);
			// 50 acknowledged writes per actor, one put each.
			for (const id of ids) {
				for (let i = 0; i < 50; i++) await runner.kvPut(id, [[key("ack", i), utf8Encode(`${id}:${i}`)]]);
			}

			const killedAt = Date.now();
			await engine.kill();
			await waitFor(() => !runner.connected, "runner notices the engine is gone");
			// KV calls while the engine is down: resent after the reconnect, or failed with a retryable error.
			const inflight = ids.flatMap((id) =>
				Array.from({ length: 5 }, (_, i) => {
					const k = key("inflight", i);
					const settled = runner.kvPut(id, [[k, utf8Encode(`${id}:inflight:${i}`)]]).then(
						() => ({ id, k, ok: true as const }),
						(error: unknown) => ({ id, k, ok: false as const, error }),
					);
					return settled;
				}),
			);
			await sleep(500);
			const restartBegan = Date.now();
			await engine.restart();
			const restartedAt = Date.now();
			const reconnect = await waitFor(
				() => rec.connects.find((c) => c.at >= restartBegan),
				"runner reconnects by itself",
				30_000,
			);
			console.log(
				`[crash-recovery] engine restart took ${restartedAt - restartBegan} ms; runner reconnected ` +
					`${reconnect.at - restartedAt} ms after the engine was healthy, ${reconnect.at - killedAt} ms after the kill ` +
					`(same runner id: ${reconnect.runnerId === firstRunnerId})`,
			);
			expect(reconnect.reconnected).toBe(true);
			expect(runner.connected).toBe(true);
			expect(rec.disconnects.length).toBeGreaterThanOrEqual(1);
			expect(rec.disconnects[0]?.willReconnect).toBe(true);

			const settleFrom = Date.now();
			const results = await Promise.all(inflight);
			console.log(`[crash-recovery] in-flight settled ${Date.now() - settleFrom} ms after reconnect`);
			for (const r of results) {
				if (!r.ok) {
					expect(isRunnerError(r.error), String(r.error)).toBe(true);
					expect((r.error as { retryable?: boolean }).retryable, String(r.error)).toBe(true);
				}
			}
			const completed = results.filter((r) => r.ok).length;
			console.log(
				`[crash-recovery] in-flight puts: ${completed} completed after the restart, ${results.length - completed} failed retryably`,
			);

			const servingFrom = Date.now();
			for (const id of ids) {
				const body = await waitServing(id, 60_000);
				console.log(`[crash-recovery] ${id} serving after ${Date.now() - servingFrom} ms: ${body}`);
				expect(body).toMatch(new RegExp(`^\\d+:${id}:0$`));
			}
			for (const id of ids) {
				for (let i = 0; i < 50; i++) {
					const value = await engine.api.getKv(id, key("ack", i));
					expect(value && utf8Decode(value), `${id} ack/${i}`).toBe(`${id}:${i}`);
				}
				for (const r of results.filter((x) => x.ok && x.id === id)) {
					const value = await engine.api.getKv(id, r.k);
					expect(value, `${id} ${utf8Decode(r.k)} was acknowledged`).not.toBeNull();
				}
				// Inside the actor too.
				expect(await runner.kvListPrefix(id, utf8Encode("ack/"))).toHaveLength(50);
			}

			// For ~30 s after a SIGKILL restart the engine runs no workflows (it logs "handled failover" once the dead
			// worker's lease expires), so the drain's stop commands come late: the deadline must stop the actors locally,
			// each exactly once, and onShutdown must still run last.
			const drainFrom = Date.now();
			await runner.shutdown({ mode: "drain", deadlineMs: 3000 });
			const drainMs = Date.now() - drainFrom;
			console.log(
				`[crash-recovery] drain after the restart took ${drainMs} ms: ${rec.stops.map((s) => s.reason)}`,
			);
			expect(drainMs).toBeLessThan(8000);
			for (const id of ids) expect(rec.stopsOf(id)).toHaveLength(1);
			for (const stop of rec.stops) expect(["engine", "shutdown"]).toContain(stop.reason);
			expect(rec.order.at(-1)).toBe("shutdown");
		} finally {
			await runner.shutdown({ mode: "immediate" });
		}
	}, 150_000);

	it("loses no write acknowledged while a kill lands in the middle of a write stream", async () => {
		const pool = uniquePool("crash-stream");
		await engine.api.upsertRunnerConfig(pool);
		const rec = new Recorder();
		const runner = recoveringRunner(pool, rec);
		try {
			await runner.start();
			const [id] = await createRunningActors(pool, runner, 1);
			const actorId = id!;
			const acked: number[] = [];
			const retryableFailures: string[] = [];
			let stop = false;
			const writer = (async () => {
				for (let i = 0; !stop; ) {
					try {
						await runner.kvPut(actorId, [[key("seq", i), utf8Encode(String(i))]]);
						acked.push(i);
						i++;
					} catch (error) {
						if (!(isRunnerError(error) && error.retryable)) throw error;
						retryableFailures.push(error.code);
						await sleep(100);
					}
				}
			})();
			await waitFor(() => acked.length >= 30, "writes flowing");
			await engine.kill();
			const ackedBeforeKill = acked.length;
			await sleep(300);
			await engine.restart();
			await waitFor(() => rec.connects.length >= 2, "reconnected", 30_000);
			await waitFor(() => acked.length >= ackedBeforeKill + 20, "writes flowing again", 60_000);
			stop = true;
			await writer;
			console.log(
				`[crash-recovery] stream: ${ackedBeforeKill} acked before the kill, ${acked.length} in all, ` +
					`retryable failures: ${retryableFailures.join(",") || "none"}`,
			);
			expect(acked).toEqual(acked.map((_, i) => i));
			const stored = await runner.kvListPrefix(actorId, utf8Encode("seq/"));
			const storedKeys = new Set(stored.map(([k]) => utf8Decode(k)));
			const missing = acked.filter((i) => !storedKeys.has(utf8Decode(key("seq", i))));
			expect(missing).toEqual([]);
			expect((await engineActor(engine, actorId)).destroyTs).toBeNull();
		} finally {
			// Immediate: a drain would wait for the engine's post-crash failover (~30 s), see above.
			await runner.shutdown({ mode: "immediate" });
		}
	}, 150_000);

	it("engine down past the runner-lost timeout: actors stop locally (lost), KV fails retryably, all comes back", async () => {
		const pool = uniquePool("crash-lost");
		await engine.api.upsertRunnerConfig(pool);
		const rec = new Recorder();
		const runner = recoveringRunner(pool, rec, 2000);
		try {
			await runner.start();
			const [id] = await createRunningActors(pool, runner, 1);
			const actorId = id!;
			for (let i = 0; i < 20; i++)
				await runner.kvPut(actorId, [[key("ack", i), utf8Encode(`${actorId}:${i}`)]]);
			await engine.kill();
			await waitFor(() => !runner.connected, "disconnected");
			const pending = runner.kvPut(actorId, [[key("pending", 0), utf8Encode("x")]]).then(
				() => null,
				(error: unknown) => error,
			);
			const stop = await waitFor(() => rec.stopsOf(actorId)[0], "local stop after the lost timeout", 10_000);
			expect(stop).toMatchObject({ generation: 0, reason: "lost" });
			const failure = await pending;
			expect(isRunnerError(failure), String(failure)).toBe(true);
			expect((failure as { retryable?: boolean }).retryable).toBe(true);
			expect(runner.hasActor(actorId)).toBe(false);

			await engine.restart();
			await waitFor(() => rec.connects.length >= 2, "reconnected", 30_000);
			// The engine learns of the stop from the resent Stopped event and restarts the actor (crash policy restart).
			const body = await waitServing(actorId, 90_000);
			console.log(`[crash-recovery] after a lost stop the actor serves again: ${body}`);
			expect(body).toBe(`${runner.getActor(actorId)?.generation}:${actorId}:0`);
			expect(runner.getActor(actorId)?.generation).toBeGreaterThanOrEqual(1);
			expect(rec.stopsOf(actorId)).toHaveLength(1);
			expect(await runner.kvListPrefix(actorId, utf8Encode("ack/"))).toHaveLength(20);
		} finally {
			await runner.shutdown({ mode: "immediate" });
		}
	}, 180_000);
});
