import { afterEach, describe, expect, it } from "vitest";
import { type EngineHandle, startEngine } from "../src/index.ts";

const engines: EngineHandle[] = [];
afterEach(async () => {
	await Promise.all(engines.splice(0).map((e) => e.stop()));
});

describe("several engines", () => {
	it("run side by side on different ports, independently", async () => {
		const results = await Promise.allSettled([startEngine(), startEngine()]);
		for (const r of results) if (r.status === "fulfilled") engines.push(r.value);
		for (const r of results) if (r.status === "rejected") throw r.reason;
		const [a, b] = engines as [EngineHandle, EngineHandle];
		expect(a.endpoint).not.toBe(b.endpoint);
		expect(a.pid).not.toBe(b.pid);
		expect(a.dataDir).not.toBe(b.dataDir);
		for (const e of [a, b]) expect((await e.api.health()).status).toBe("ok");

		await a.api.upsertRunnerConfig("pool");
		await b.api.upsertRunnerConfig("pool");
		const onA = await a.api.createActor({ name: "only-a", key: "k", runnerNameSelector: "pool" });
		expect((await a.api.listActors({ name: "only-a" })).actors).toHaveLength(1);
		expect((await b.api.listActors({ name: "only-a" })).actors).toHaveLength(0);
		expect(await b.api.getActor(onA.actorId)).toBeNull();

		await a.stop();
		expect((await b.api.health()).status).toBe("ok");
	});
});
