/**
 * Engine crash: the engine is SIGKILLed and restarted on the same storage; the runner reconnects by itself, its
 * actors serve again, acknowledged KV writes are kept, and KV calls made during the outage complete or fail
 * retryably. Uses its own engine so the shared one is not disturbed.
 *
 * @module
 */
import { startEngine } from "@x/dev-engine";
import { assert, assertEquals, prop } from "../assert.ts";
import { ENGINE_ENV, withLabelledApi } from "../context.ts";
import { gatewayRequest, Recorder, sleep, text, utf8, waitFor } from "../support.ts";
import type { Scenario } from "./types.ts";

const key = (prefix: string, i: number): Uint8Array => utf8(`${prefix}/${String(i).padStart(3, "0")}`);

export const engineKillAndRestart: Scenario = {
	name: "engine SIGKILL and restart: the runner reconnects, actors serve again, acknowledged KV is kept",
	timeoutMs: 150_000,
	async run(ctx) {
		const engine = withLabelledApi(await startEngine({ env: ENGINE_ENV }));
		ctx.scope.defer(() => engine.stop());
		const pool = await ctx.pool("crash", engine);
		const rec = new Recorder();
		const runner = await ctx.runner(pool, {
			...rec.callbacks(),
			endpoint: engine.endpoint,
			reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
			fetch: async (_request, { actorId, generation, runner: host }) => {
				const [value] = await host.kvGet(actorId, [key("ack", 0)]);
				return new Response(`${generation}:${value ? text(value) : "none"}`);
			},
		});
		await runner.start();
		const ids: string[] = [];
		for (let i = 0; i < 2; i++) {
			// Not ctx.createActor: this engine and its storage are thrown away at the end, actors included.
			const actor = await engine.api.createActor({
				name: "crash",
				key: `${pool}-${i}`,
				runnerNameSelector: pool,
				crashPolicy: "restart",
			});
			ids.push(actor.actorId);
		}
		await waitFor(() => ids.every((id) => runner.getActor(id)?.state === "running"), "actors running");
		for (const id of ids) {
			for (let i = 0; i < 20; i++) await runner.kvPut(id, [[key("ack", i), utf8(`${id}:${i}`)]]);
		}

		await engine.kill();
		assertEquals(engine.running, false, "engine running after kill()");
		await waitFor(() => !runner.connected, "the runner notices the engine is gone");
		assertEquals(rec.disconnects[0]?.willReconnect, true, "willReconnect after the crash");
		const inflight = ids.map((id) =>
			runner.kvPut(id, [[key("outage", 0), utf8(`${id}:outage`)]]).then(
				() => ({ id, error: undefined as unknown }),
				(error: unknown) => ({ id, error }),
			),
		);
		await sleep(500);
		const restartBegan = Date.now();
		await engine.restart();
		const reconnect = await waitFor(
			() => rec.connects.find((c) => c.at >= restartBegan),
			"the runner reconnects by itself",
			30_000,
		);
		assertEquals(reconnect.reconnected, true, "onConnected reconnected flag");
		assertEquals(runner.connected, true, "connected after the restart");

		for (const { id, error } of await Promise.all(inflight)) {
			if (error === undefined) {
				assertEquals(
					text(await engine.api.getKv(id, key("outage", 0))),
					`${id}:outage`,
					"a KV put made in the outage",
				);
			} else {
				assertEquals(prop(error, "retryable"), true, `a KV put that failed in the outage: ${String(error)}`);
			}
		}
		for (const id of ids) {
			const body = await waitFor(
				async () => {
					const res = await gatewayRequest(engine, id, "/", {}, 10_000);
					return res.status === 200 ? text(res.body) : null;
				},
				`actor ${id} serves through the gateway again`,
				60_000,
				250,
			);
			assert(new RegExp(`^\\d+:${id}:0$`).test(body), `answer of ${id} after the restart: ${body}`);
			for (let i = 0; i < 20; i++) {
				assertEquals(text(await engine.api.getKv(id, key("ack", i))), `${id}:${i}`, `${id} ack/${i}`);
			}
			assertEquals(
				(await runner.kvListPrefix(id, utf8("ack/"))).length,
				20,
				`${id}: entries read by the runner`,
			);
		}
		// New work is placed on the reconnected runner.
		const fresh = await engine.api.createActor({
			name: "fresh",
			runnerNameSelector: pool,
			crashPolicy: "restart",
		});
		const res = await waitFor(
			async () => {
				const r = await gatewayRequest(engine, fresh.actorId, "/", {}, 10_000);
				return r.status === 200 ? r : null;
			},
			"a new actor serves after the restart",
			30_000,
			250,
		);
		assertEquals(text(res.body), "0:none", "answer of a new actor");
	},
};
