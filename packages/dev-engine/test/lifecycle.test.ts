import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { asyncDisposeSymbol, type EngineHandle, startEngine, withEngine } from "../src/index.ts";
import { isAlive } from "./helpers.ts";

let engine: EngineHandle | undefined;
afterEach(async () => {
	await engine?.stop();
	engine = undefined;
});

describe("startEngine lifecycle", () => {
	it("starts, serves the API and leaves nothing behind on stop", async () => {
		engine = await startEngine();
		const { pid, dataDir, endpoint, ports } = engine;
		expect(endpoint).toBe(`http://127.0.0.1:${ports.guard}`);
		expect(new Set([ports.guard, ports.apiPeer, ports.metrics]).size).toBe(3);
		expect(engine.namespace).toBe("default");
		expect(engine.running).toBe(true);
		expect(isAlive(pid)).toBe(true);
		expect(existsSync(dataDir)).toBe(true);

		const health = await (await fetch(`${endpoint}/health`)).json();
		expect(health).toMatchObject({ status: "ok", version: "2.3.19" });
		// The engine advertises its real public URL (not the default port 6420).
		const dcs = await (await fetch(`${endpoint}/datacenters?namespace=default`)).json();
		expect(dcs).toMatchObject({ datacenters: [{ name: "default", url: `${endpoint}/` }] });

		const { api } = engine;
		expect(await api.upsertRunnerConfig("pool-a")).toEqual({ endpointConfigChanged: true });
		const actor = await api.createActor({
			name: "counter",
			key: "one",
			runnerNameSelector: "pool-a",
			input: "hi",
		});
		expect(actor).toMatchObject({
			name: "counter",
			key: "one",
			runnerNameSelector: "pool-a",
			crashPolicy: "sleep",
		});
		expect(actor.actorId).toMatch(/^[a-z0-9]+$/);
		expect(actor.destroyTs).toBeNull();

		expect((await api.getActor(actor.actorId))?.actorId).toBe(actor.actorId);
		const listed = await api.listActors({ name: "counter" });
		expect(listed.actors.map((a) => a.actorId)).toEqual([actor.actorId]);
		expect((await api.listActors({ name: "counter", key: "one" })).actors).toHaveLength(1);

		const again = await api.getOrCreateActor({ name: "counter", key: "one", runnerNameSelector: "pool-a" });
		expect(again).toMatchObject({ created: false, actor: { actorId: actor.actorId } });
		const fresh = await api.getOrCreateActor({ name: "counter", key: "two", runnerNameSelector: "pool-a" });
		expect(fresh.created).toBe(true);

		expect(await api.getKv(actor.actorId, "missing")).toBeNull();
		expect(api.gatewayUrl(actor.actorId, "/ping")).toBe(`${endpoint}/gateway/${actor.actorId}/ping`);
		expect(api.gatewayWebSocketUrl(actor.actorId)).toBe(
			`ws://127.0.0.1:${ports.guard}/gateway/${actor.actorId}/`,
		);

		await api.destroyActor(actor.actorId);
		expect((await api.listActors({ name: "counter", key: "one" })).actors).toHaveLength(0);
		const destroyed = await api.getActor(actor.actorId);
		expect(destroyed?.destroyTs).toEqual(expect.any(Number));
		expect((await api.listActors({ name: "counter", includeDestroyed: true })).actors.length).toBe(2);

		await engine.stop();
		expect(engine.running).toBe(false);
		expect(() => process.kill(pid, 0)).toThrow();
		expect(existsSync(dataDir)).toBe(false);
		await engine.stop(); // idempotent
	});

	it("creates a custom namespace and scopes the API to it", async () => {
		engine = await startEngine({ namespace: "tests-ns" });
		expect(engine.namespace).toBe("tests-ns");
		await engine.api.upsertRunnerConfig("pool");
		const actor = await engine.api.createActor({ name: "a", runnerNameSelector: "pool" });
		expect((await engine.api.listActors({ name: "a" })).actors).toHaveLength(1);
		const res = await fetch(`${engine.endpoint}/actors?namespace=default&actor_id=${actor.actorId}`);
		expect(((await res.json()) as { actors: unknown[] }).actors).toHaveLength(0);
	});

	it("withEngine always stops the engine, also when the callback throws", async () => {
		let pid = 0;
		const failure = withEngine(async (e) => {
			pid = e.pid;
			expect(isAlive(pid)).toBe(true);
			throw new Error("boom");
		});
		await expect(failure).rejects.toThrow("boom");
		expect(() => process.kill(pid, 0)).toThrow();

		const version = await withEngine(async (e) => (await e.api.health()).version);
		expect(version).toBe("2.3.19");
	});

	it("supports `await using`", async () => {
		let pid = 0;
		{
			await using scoped = await startEngine();
			pid = scoped.pid;
			expect((await scoped.api.health()).status).toBe("ok");
		}
		expect(() => process.kill(pid, 0)).toThrow();
	});

	it("disposes through Symbol.asyncDispose", async () => {
		const e = await startEngine({ logLevel: "warn" });
		expect(asyncDisposeSymbol).toBe(Symbol.asyncDispose);
		await e[Symbol.asyncDispose]();
		expect(() => process.kill(e.pid, 0)).toThrow();
	});

	it("keeps a log tail and forwards lines to onLog", async () => {
		const lines: string[] = [];
		engine = await startEngine({ onLog: (line) => lines.push(line) });
		expect(lines.some((line) => line.includes("starting rivet"))).toBe(true);
		expect(engine.logTail()).toContain("HTTP server listening on");
		expect(engine.logTail().split("\n").length).toBeLessThanOrEqual(200);
	});
});
