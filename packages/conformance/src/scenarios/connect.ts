/**
 * Connect and init; an actor starts with its name, key and binary input.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { engineActor, gatewayRequest, pseudoRandomBytes, Recorder, text, waitFor } from "../support.ts";
import type { Scenario } from "./types.ts";

export const connectAndInit: Scenario = {
	name: "connects, completes the init handshake and shuts down cleanly",
	timeoutMs: 30_000,
	async run(ctx) {
		const pool = await ctx.pool("connect");
		const rec = new Recorder();
		const runner = await ctx.runner(pool, rec.callbacks());
		assertEquals(runner.connected, false, "connected before start()");
		assertEquals(runner.runnerId, undefined, "runnerId before start()");
		assertEquals(runner.runnerName, pool, "runnerName");
		await runner.start();
		assertEquals(runner.connected, true, "connected after start()");
		assertMatch(runner.runnerId, /^[0-9a-z]{30}$/, "runnerId");
		assertEquals(
			rec.connects.map((c) => [c.runnerId, c.reconnected]),
			[[runner.runnerId, false]],
			"onConnected calls",
		);
		const thresholds = runner.thresholds;
		assert(thresholds !== undefined, "thresholds after the handshake");
		assert(thresholds.runnerLostThreshold > 0, `runnerLostThreshold ${thresholds.runnerLostThreshold}`);
		assert(thresholds.actorStopThreshold > 0, `actorStopThreshold ${thresholds.actorStopThreshold}`);
		assertEquals(runner.actors.size, 0, "actors of a fresh runner");
		const second = await runner.start().then(
			() => "resolved",
			(error: unknown) => (error as { code?: unknown }).code,
		);
		assertEquals(second, "ALREADY_STARTED", "a second start()");

		await runner.shutdown();
		assertEquals(runner.connected, false, "connected after shutdown()");
		assertEquals(rec.shutdowns, 1, "onShutdown calls");
		assertEquals(rec.disconnects.length, 1, "onDisconnected calls");
		assertEquals(rec.disconnects[0]?.willReconnect, false, "willReconnect after shutdown");
		await runner.shutdown();
		assertEquals(rec.shutdowns, 1, "onShutdown calls after a second shutdown()");
		assertEquals(rec.errors, [], "onError reports");
	},
};

export const actorStartWithInput: Scenario = {
	name: "starts an actor with its name, key, binary input and generation 0",
	timeoutMs: 30_000,
	async run(ctx) {
		const engine = await ctx.engine();
		const pool = await ctx.pool("start");
		const rec = new Recorder();
		const runner = await ctx.runner(pool, {
			...rec.callbacks(),
			fetch: (_request, { actorId, generation, runner: host }) => {
				const actor = host.getActor(actorId);
				return new Response(`${generation}:${actor?.config.name}:${actor?.config.input?.length ?? -1}`);
			},
		});
		await runner.start();
		// Every byte value, plus invalid UTF-8, so a lossy base64 or text conversion would show.
		const input = new Uint8Array([
			...Array.from({ length: 256 }, (_, i) => i),
			...pseudoRandomBytes(300, 7),
			0xc3,
			0x28,
		]);
		const key = `key-${pool}`;
		const created = await ctx.createActor({
			name: "counter",
			key,
			input,
			runnerNameSelector: pool,
			crashPolicy: "restart",
		});
		assertMatch(created.actorId, /^[0-9a-z]{30}$/, "actorId");
		const start = await waitFor(() => rec.startsOf(created.actorId)[0], "onActorStart");
		assertEquals(start.generation, 0, "generation");
		assertEquals(start.config.name, "counter", "config.name");
		assertEquals(start.config.key, key, "config.key");
		assertEquals(start.config.input, input, "config.input");
		assertEquals(typeof start.config.createTs, "bigint", "typeof config.createTs");
		await waitFor(
			async () => (await engineActor(engine, created.actorId)).connectableTs,
			"engine: connectable",
		);
		const info = runner.getActor(created.actorId);
		assertEquals(info?.state, "running", "actor state");
		assertEquals(info?.generation, 0, "actor generation");
		assertEquals(runner.hasActor(created.actorId), true, "hasActor");
		const res = await gatewayRequest(engine, created.actorId, "/");
		assertEquals([res.status, text(res.body)], [200, `0:counter:${input.length}`], "gateway answer");

		const keyless = await ctx.createActor({
			name: "plain",
			runnerNameSelector: pool,
			crashPolicy: "restart",
		});
		const plain = await waitFor(() => rec.startsOf(keyless.actorId)[0], "keyless actor starts");
		assertEquals([plain.config.key, plain.config.input], [null, null], "key and input of a plain actor");
		assertEquals(rec.stops, [], "no actor stopped");
		assertEquals(rec.errors, [], "onError reports");
	},
};
