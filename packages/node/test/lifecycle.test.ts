/**
 * Actor lifecycle on the real engine: connect, start, failed start, sleep/wake, stop, alarm, drain.
 */
import { type EngineHandle, startEngine } from "@x/dev-engine";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { utf8Encode } from "../src/index.ts";
import {
	bytesEqual,
	createActor,
	ENGINE_TEST_TIMEOUT_MS,
	ENGINE_WAIT_MS,
	engineActor,
	gatewayFetch,
	makeRunner,
	pseudoRandomBytes,
	Recorder,
	shutdownAllRunners,
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

/** A runner whose fetch answers `<actorId> gen=<generation>`. */
function generationRunner(
	pool: string,
	rec: Recorder,
	extra: Parameters<typeof makeRunner>[2] = rec.callbacks(),
) {
	return makeRunner(engine, pool, {
		...rec.callbacks(),
		...extra,
		fetch: (_request, { actorId, generation }) => new Response(`${actorId} gen=${generation}`),
	});
}

describe("lifecycle on the real engine", { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
	it("connects and completes the handshake", async () => {
		const pool = uniquePool("life-connect");
		await engine.api.upsertRunnerConfig(pool);
		const rec = new Recorder();
		const runner = generationRunner(pool, rec);
		try {
			expect(runner.connected).toBe(false);
			expect(runner.runnerId).toBeUndefined();
			await runner.start();
			expect(runner.connected).toBe(true);
			expect(runner.runnerId).toMatch(/^[0-9a-z]{30}$/);
			expect(rec.connects).toHaveLength(1);
			expect(rec.connects[0]).toMatchObject({ runnerId: runner.runnerId, reconnected: false });
			expect(runner.thresholds?.runnerLostThreshold).toBeGreaterThan(0);
			expect(runner.thresholds?.actorStopThreshold).toBeGreaterThan(0);
		} finally {
			await runner.shutdown();
		}
		expect(runner.connected).toBe(false);
		expect(rec.order.at(-1)).toBe("shutdown");
	});

	it("starts an actor created through the API with its name, key, input and generation 0", async () => {
		const pool = uniquePool("life-start");
		await engine.api.upsertRunnerConfig(pool);
		const rec = new Recorder();
		const runner = generationRunner(pool, rec);
		// Every byte value, so a lossy base64/utf8 conversion would show.
		const input = new Uint8Array([...pseudoRandomBytes(300, 7), 0, 255, 0x80, 0xc3, 0x28]);
		try {
			await runner.start();
			const created = await createActor(engine, {
				name: "counter",
				key: "life-start-key",
				input,
				runnerNameSelector: pool,
				crashPolicy: "restart",
			});
			const start = await waitFor(() => rec.startsOf(created.actorId)[0], "onActorStart");
			expect(start.generation).toBe(0);
			expect(start.config.name).toBe("counter");
			expect(start.config.key).toBe("life-start-key");
			expect(bytesEqual(start.config.input, input)).toBe(true);
			expect(typeof start.config.createTs).toBe("bigint");
			await waitFor(async () => (await engineActor(engine, created.actorId)).connectableTs, "connectable");
			expect(runner.getActor(created.actorId)?.state).toBe("running");
			const res = await gatewayFetch(engine, created.actorId, "/");
			expect(res).toEqual({ status: 200, text: `${created.actorId} gen=0` });
		} finally {
			await runner.shutdown();
		}
	});

	it("survives an onActorStart that throws: onError, actor stopped, next actor starts", async () => {
		const pool = uniquePool("life-fail");
		await engine.api.upsertRunnerConfig(pool);
		const rec = new Recorder();
		const runner = generationRunner(pool, rec, {
			onActorStart: ({ actorId, generation, config }) => {
				rec.recordStart(actorId, generation, config);
				if (config.name === "bad") throw new Error("boom in onActorStart");
			},
		});
		try {
			await runner.start();
			const bad = await createActor(engine, {
				name: "bad",
				runnerNameSelector: pool,
				crashPolicy: "destroy",
			});
			const stop = await waitFor(() => rec.stopsOf(bad.actorId)[0], "stop of the failed actor");
			expect(stop.reason).toBe("start-failed");
			const error = rec.errors.find((e) => e.context.actorId === bad.actorId);
			expect(error?.context.stage).toBe("actor-start");
			expect(error?.error.code).toBe("ACTOR_START_FAILED");
			expect(error?.error.message).toContain("boom in onActorStart");
			expect(runner.hasActor(bad.actorId)).toBe(false);
			// The engine got the Stopped(error) report: a destroy-policy actor that crashed is destroyed.
			const destroyed = await waitFor(
				async () => (await engineActor(engine, bad.actorId)).destroyTs,
				"engine destroys the crashed actor",
			);
			expect(destroyed).toBeGreaterThan(0);
			expect(runner.connected).toBe(true);

			const good = await createActor(engine, {
				name: "good",
				runnerNameSelector: pool,
				crashPolicy: "restart",
			});
			await waitFor(() => rec.startsOf(good.actorId)[0], "second actor starts");
			expect(await gatewayFetch(engine, good.actorId, "/")).toEqual({
				status: 200,
				text: `${good.actorId} gen=0`,
			});
			expect(rec.stopsOf(good.actorId)).toHaveLength(0);
		} finally {
			await runner.shutdown();
		}
	});

	it("sleeps on a sleep intent and wakes with generation 1 on a gateway request", async () => {
		const pool = uniquePool("life-sleep");
		await engine.api.upsertRunnerConfig(pool);
		const rec = new Recorder();
		const runner = generationRunner(pool, rec);
		try {
			await runner.start();
			const { actorId } = await createActor(engine, {
				name: "s",
				runnerNameSelector: pool,
				crashPolicy: "restart",
			});
			await waitRunning(engine, runner, actorId);
			runner.sleepActor(actorId);
			const stop = await waitFor(() => rec.stopsOf(actorId)[0], "onActorStop after sleep intent");
			expect(stop).toMatchObject({ generation: 0, reason: "sleep" });
			const asleep = await waitFor(async () => {
				const a = await engineActor(engine, actorId);
				return a.sleepTs !== null && a.connectableTs === null ? a : null;
			}, "engine shows the actor asleep");
			expect(asleep.destroyTs).toBeNull();
			expect(runner.hasActor(actorId)).toBe(false);

			const woke = await gatewayFetch(engine, actorId, "/wake");
			expect(woke).toEqual({ status: 200, text: `${actorId} gen=1` });
			expect(rec.startsOf(actorId).map((s) => s.generation)).toEqual([0, 1]);
			expect((await engineActor(engine, actorId)).sleepTs).toBeNull();
		} finally {
			await runner.shutdown();
		}
	});

	it("destroys the actor on a stop intent", async () => {
		const pool = uniquePool("life-stop");
		await engine.api.upsertRunnerConfig(pool);
		const rec = new Recorder();
		const runner = generationRunner(pool, rec);
		try {
			await runner.start();
			const { actorId } = await createActor(engine, {
				name: "d",
				runnerNameSelector: pool,
				crashPolicy: "restart",
			});
			await waitRunning(engine, runner, actorId);
			runner.stopActor(actorId);
			const stop = await waitFor(() => rec.stopsOf(actorId)[0], "onActorStop after stop intent");
			expect(stop.reason).toBe("destroy");
			const destroyTs = await waitFor(
				async () => (await engineActor(engine, actorId)).destroyTs,
				"engine destroys the actor",
			);
			expect(destroyTs).toBeGreaterThan(0);
			expect(runner.hasActor(actorId)).toBe(false);
			const res = await gatewayFetch(engine, actorId, "/");
			expect(res.status).toBe(404);
			expect(rec.startsOf(actorId)).toHaveLength(1);
		} finally {
			await runner.shutdown();
		}
	});

	it("is woken by an alarm without any request", async () => {
		const pool = uniquePool("life-alarm");
		await engine.api.upsertRunnerConfig(pool);
		const rec = new Recorder();
		const runner = generationRunner(pool, rec);
		try {
			await runner.start();
			const { actorId } = await createActor(engine, {
				name: "al",
				runnerNameSelector: pool,
				crashPolicy: "restart",
			});
			await waitRunning(engine, runner, actorId);
			const alarmAt = Date.now() + 2000;
			runner.setAlarm(actorId, alarmAt);
			runner.sleepActor(actorId);
			await waitFor(() => rec.stopsOf(actorId)[0]?.reason === "sleep", "actor asleep");
			expect(rec.startsOf(actorId)).toHaveLength(1);
			const restart = await waitFor(() => rec.startsOf(actorId)[1], "alarm restarts the actor");
			const lateBy = restart.at - alarmAt;
			console.log(`[lifecycle] alarm restart ${lateBy} ms after the alarm time`);
			expect(restart.generation).toBe(1);
			expect(lateBy).toBeGreaterThanOrEqual(-50);
			// Normally ~10–50 ms late; the bound only guards against a restart that was not the alarm's.
			expect(lateBy).toBeLessThan(ENGINE_WAIT_MS);
		} finally {
			await runner.shutdown();
		}
	});

	it("drains: one onActorStop per actor, onShutdown last, actors no longer running", async () => {
		const pool = uniquePool("life-drain");
		await engine.api.upsertRunnerConfig(pool);
		const rec = new Recorder();
		const runner = generationRunner(pool, rec);
		let ids: string[] = [];
		let drainStarted = Date.now();
		try {
			await runner.start();
			const created = await Promise.all(
				[1, 2, 3].map((i) =>
					createActor(engine, {
						name: "dr",
						key: `k${i}`,
						input: utf8Encode(`actor ${i}`),
						runnerNameSelector: pool,
						crashPolicy: "restart",
					}),
				),
			);
			ids = created.map((a) => a.actorId);
			for (const id of ids) await waitRunning(engine, runner, id);
			for (const id of ids)
				await waitFor(async () => (await engineActor(engine, id)).connectableTs, "connectable");
		} finally {
			drainStarted = Date.now();
			await runner.shutdown({ mode: "drain", deadlineMs: ENGINE_WAIT_MS });
		}
		const drainMs = Date.now() - drainStarted;
		for (const id of ids) expect(rec.stopsOf(id)).toHaveLength(1);
		expect(rec.stops).toHaveLength(3);
		// Engine-driven stops (the drain). Only if the engine missed the deadline (a stalled engine, see
		// ENGINE_WAIT_MS) may the runner have stopped the rest locally, and never before the deadline.
		const reasons = rec.stops.map((s) => s.reason);
		if (drainMs < ENGINE_WAIT_MS) expect(reasons).toEqual(["engine", "engine", "engine"]);
		else expect(reasons.every((r) => r === "engine" || r === "shutdown")).toBe(true);
		console.log(`[lifecycle] drain of 3 actors took ${drainMs} ms: ${reasons.join(",")}`);
		expect(rec.order.at(-1)).toBe("shutdown");
		expect(rec.order.filter((o) => o === "shutdown")).toHaveLength(1);
		expect(runner.actors.size).toBe(0);
		for (const id of ids) {
			const actor = await waitFor(async () => {
				const a = await engineActor(engine, id);
				return a.connectableTs === null ? a : null;
			}, `engine no longer reports ${id} connectable`);
			expect(actor.destroyTs).toBeNull();
		}
	});
});
