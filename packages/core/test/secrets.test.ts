import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { createConsoleLogger, type RunnerOptions } from "../src/index.ts";
import { FakeEngine, initMessage } from "../src/testing/index.ts";
import {
	capturingLogger,
	commands,
	connected,
	harness,
	kvResponse,
	ping,
	startActors,
	startCmd,
	stopCmd,
	track,
} from "./helpers.ts";

const TOKEN = "tok_SUPER-secret-0123456789";

/** Drives a runner through most of its life: connect, actors, KV, bad frames, reconnects, failures, shutdown. */
async function exercise(options: Partial<RunnerOptions>): Promise<ReturnType<typeof harness>> {
	const engine = new FakeEngine();
	const h = await connected(
		{
			livenessTimeoutMs: 10_000,
			handshakeTimeoutMs: 2000,
			actorStartTimeoutMs: 1000,
			...options,
			onActorStart: (c) => {
				if (c.actorId === "bad") throw new Error("start failed");
				if (c.actorId === "slow") return new Promise<void>(() => {});
			},
		},
		engine,
	);
	await startActors(h, "a1");
	h.engine.last.push(commands(startCmd("bad"), startCmd("slow")));
	h.engine.last.push(ping(1n));
	const kv = track(h.runner.kvGet("a1", [new Uint8Array([1])]));
	const { requestId } = h.engine.last.sent("ToServerKvRequest").at(-1)!;
	h.engine.last.push(kvResponse(requestId, { tag: "KvErrorResponse", val: { message: "nope" } }));
	await h.clock.advance(1000);
	expect(kv.state.status).toBe("rejected");
	h.engine.last.pushRaw("text frame");
	await h.clock.advance(1000);
	h.engine.last.pushRaw(new Uint8Array([9, 9, 9]));
	await h.clock.advance(1000);
	await h.clock.advance(10_000); // liveness timeout
	await h.clock.advance(1000);
	engine.autoInit = null;
	h.engine.last.drop(1011, "ws.going_away#ray");
	await h.clock.advance(1000);
	h.engine.last.accept();
	await h.clock.advance(2000); // handshake timeout
	await h.clock.advance(2000);
	h.engine.last.accept();
	h.engine.last.push(initMessage("runner-2"));
	await h.clock.advance(0);
	h.engine.last.push(commands(startCmd("a2")));
	await h.clock.advance(0);
	h.runner.setAlarm("a2", 5);
	h.engine.last.push(commands(stopCmd("a2", 0, 1n)));
	await h.clock.advance(0);
	await h.runner.shutdown({ mode: "drain", deadlineMs: 500 });
	return h;
}

describe("the token stays secret", () => {
	it("toString, toJSON and inspect never contain it", async () => {
		const h = await connected({ token: TOKEN });
		await startActors(h, "a1");
		expect(String(h.runner)).not.toContain(TOKEN);
		expect(JSON.stringify(h.runner)).not.toContain(TOKEN);
		expect(JSON.stringify({ nested: h.runner })).not.toContain(TOKEN);
		expect(inspect(h.runner, { depth: 10, showHidden: true })).not.toContain(TOKEN);
		expect(JSON.stringify(h.runner.toJSON())).toContain("pool");
		expect(String(h.runner)).toContain("runner-1");
	});

	it("never appears in anything logged, at any level, through a whole life", async () => {
		const log = capturingLogger();
		const h = await exercise({ token: TOKEN, logger: log.logger });
		expect(log.records.length).toBeGreaterThan(20);
		expect(log.records.some((r) => r.level === "trace")).toBe(true);
		expect(log.records.some((r) => r.level === "warn")).toBe(true);
		expect(log.records.some((r) => r.level === "error")).toBe(true);
		expect(log.text()).not.toContain(TOKEN);
		expect(log.text()).not.toContain("rivet_token");
		expect(JSON.stringify(h.errors)).not.toContain(TOKEN);
		// The engine did receive it.
		expect(h.engine.connections.every((c) => c.protocols.includes(`rivet_token.${TOKEN}`))).toBe(true);
	});

	it("never appears in the console logger's lines", async () => {
		const lines: string[] = [];
		const sink = (line: string): void => void lines.push(line);
		const logger = createConsoleLogger({
			level: "trace",
			console: { debug: sink, info: sink, warn: sink, error: sink },
		});
		await exercise({ token: TOKEN, logger });
		expect(lines.length).toBeGreaterThan(20);
		for (const line of lines) expect(line).not.toContain(TOKEN);
	});

	it("a token function's value is not logged either", async () => {
		const log = capturingLogger();
		let n = 0;
		await exercise({ token: () => `${TOKEN}-${++n}`, logger: log.logger });
		expect(n).toBeGreaterThan(2);
		expect(log.text()).not.toContain(TOKEN);
	});

	it("uses the logger passed in `logger` over platform.logger, as a child with the runner name", async () => {
		const chosen = capturingLogger();
		const other = capturingLogger();
		const h = harness({ logger: chosen.logger, platform: { logger: other.logger } });
		await h.runner.start();
		expect(other.records).toEqual([]);
		expect(chosen.records.some((r) => r.bindings.runner === "pool")).toBe(true);
	});
});
