import { type EngineHandle, startEngine } from "@x/dev-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Runner, utf8Decode, utf8Encode } from "../src/index.ts";

let engine: EngineHandle;
beforeAll(async () => {
	engine = await startEngine();
});
afterAll(async () => {
	await engine?.stop();
});

describe("Node runner against the real engine", () => {
	it("starts an actor, serves HTTP and KV, shuts down", async () => {
		const pool = "smoke";
		await engine.api.upsertRunnerConfig(pool);
		const starts: string[] = [];
		const runner = new Runner({
			endpoint: engine.endpoint,
			runnerName: pool,
			totalSlots: 5,
			signals: false,
			logger: undefined,
			onActorStart: async ({ actorId, runner, config }) => {
				starts.push(actorId);
				await runner.kvPut(actorId, [[utf8Encode("input"), config.input ?? new Uint8Array()]]);
			},
			fetch: async (request, { actorId, runner }) => {
				const [value] = await runner.kvGet(actorId, [utf8Encode("input")]);
				return new Response(
					`${request.method} ${new URL(request.url).pathname} ${utf8Decode(value ?? new Uint8Array())}`,
				);
			},
		});
		await runner.start();
		const actor = await engine.api.createActor({
			name: "a",
			key: "k1",
			runnerNameSelector: pool,
			input: "hello",
		});
		const res = await fetch(engine.api.gatewayUrl(actor.actorId, "/hi"));
		expect(await res.text()).toBe("GET /hi hello");
		expect(starts).toEqual([actor.actorId]);
		await runner.shutdown();
	});
});
