import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { type EngineHandle, startEngine } from "@x/dev-engine";
import { createConsoleLogger, Runner, utf8Encode } from "../src/index.ts";

let engine: EngineHandle;
beforeAll(async () => {
	engine = await startEngine();
}, 60_000);
afterAll(async () => {
	await engine?.stop();
});

describe("Bun runner against the real engine", () => {
	it("serves HTTP for an actor and shuts down", async () => {
		await engine.api.upsertRunnerConfig("bun-smoke");
		const runner = new Runner({
			endpoint: engine.endpoint,
			runnerName: "bun-smoke",
			totalSlots: 4,
			signals: false,
			logger: createConsoleLogger({ level: "warn" }),
			onActorStart: async ({ actorId, runner }) => {
				await runner.kvPut(actorId, [[utf8Encode("k"), utf8Encode("v")]]);
			},
			fetch: (request) => new Response(`bun ${new URL(request.url).pathname}`),
		});
		try {
			await runner.start();
			const actor = await engine.api.createActor({
				name: "a",
				key: "bun-1",
				runnerNameSelector: "bun-smoke",
			});
			const response = await fetch(engine.api.gatewayUrl(actor.actorId, "/x"));
			expect(await response.text()).toBe("bun /x");
		} finally {
			await runner.shutdown();
		}
	}, 60_000);
});
