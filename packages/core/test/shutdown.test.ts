import { StopCode } from "@rivetkit/engine-runner-protocol";
import { describe, expect, it } from "vitest";
import { ConnectionLostError, RunnerShutdownError, type StopReason } from "../src/index.ts";
import { FakeEngine } from "../src/testing/index.ts";
import {
	commands,
	connected,
	harness,
	rejection,
	startActors,
	stopCmd,
	stoppedEvents,
	track,
} from "./helpers.ts";

function lifecycle() {
	const log: string[] = [];
	const stops: Array<{ actorId: string; reason: StopReason }> = [];
	return {
		log,
		stops,
		options: {
			onActorStop: (c: { actorId: string; reason: StopReason }) => {
				stops.push({ actorId: c.actorId, reason: c.reason });
				log.push(`stop:${c.actorId}:${c.reason}`);
			},
			onDisconnected: () => void log.push("disconnected"),
			onShutdown: () => void log.push("shutdown"),
			onDrainProgress: (p: { remaining: number; elapsedMs: number }) =>
				void log.push(`progress:${p.remaining}:${p.elapsedMs}`),
		},
	};
}

describe("shutdown()", () => {
	it("is idempotent: every call returns the same promise and onShutdown runs once, last", async () => {
		const l = lifecycle();
		const h = await connected(l.options);
		await startActors(h, "a1");
		const first = h.runner.shutdown({ mode: "immediate" });
		const second = h.runner.shutdown({ mode: "immediate" });
		const third = h.runner.shutdown();
		expect(second).toBe(first);
		expect(third).toBe(first);
		await first;
		expect(l.log.filter((e) => e === "shutdown")).toHaveLength(1);
		expect(l.log.at(-1)).toBe("shutdown");
		expect(l.log.indexOf("stop:a1:shutdown")).toBeLessThan(l.log.indexOf("shutdown"));
		await h.runner.shutdown();
		expect(l.log.filter((e) => e === "shutdown")).toHaveLength(1);
	});

	it("rejects a bad mode without shutting down", async () => {
		const h = await connected();
		const result = track(h.runner.shutdown({ mode: "later" as unknown as "drain" }));
		await h.clock.advance(0);
		expect(rejection(result)).toMatchObject({ code: "INVALID_ARGUMENT" });
		expect(h.runner.connected).toBe(true);
	});

	it("drain: sends ToServerStopping, then waits for the engine to stop each actor", async () => {
		const l = lifecycle();
		const h = await connected({ ...l.options, drainDeadlineMs: 30_000 });
		await startActors(h, "a1", "a2");
		const conn = h.engine.last;
		const done = track(h.runner.shutdown());
		await h.clock.advance(0);
		expect(conn.sent("ToServerStopping")).toHaveLength(1);
		expect(h.runner.actors.size).toBe(2);
		conn.push(commands(stopCmd("a1")));
		await h.clock.advance(500);
		expect(done.state.status).toBe("pending");
		conn.push(commands(stopCmd("a2")));
		await h.clock.advance(0);
		expect(done.state.status).toBe("fulfilled");
		expect(l.stops).toEqual([
			{ actorId: "a1", reason: "engine" },
			{ actorId: "a2", reason: "engine" },
		]);
		expect(stoppedEvents(conn).map((s) => s.code)).toEqual([StopCode.Ok, StopCode.Ok]);
		expect(conn.closeCode).toBe(1000);
		expect(l.log.at(-1)).toBe("shutdown");
		expect(h.clock.pending).toBe(0);
	});

	it("drain deadline: leftover actors are stopped locally with reason shutdown, onActorStop once each", async () => {
		const l = lifecycle();
		const h = await connected({ ...l.options, drainDeadlineMs: 5000 });
		await startActors(h, "a1", "a2");
		const done = track(h.runner.shutdown());
		await h.clock.advance(0);
		h.engine.last.push(commands(stopCmd("a1")));
		await h.clock.advance(4999);
		expect(done.state.status).toBe("pending");
		expect(h.runner.hasActor("a2")).toBe(true);
		await h.clock.advance(1);
		expect(done.state.status).toBe("fulfilled");
		expect(l.stops).toEqual([
			{ actorId: "a1", reason: "engine" },
			{ actorId: "a2", reason: "shutdown" },
		]);
		expect(h.clock.pending).toBe(0);
	});

	it("a per-call deadlineMs overrides drainDeadlineMs", async () => {
		const h = await connected({ drainDeadlineMs: 60_000 });
		await startActors(h, "a1");
		const done = track(h.runner.shutdown({ deadlineMs: 2000 }));
		await h.clock.advance(2000);
		expect(done.state.status).toBe("fulfilled");
	});

	it("reports drain progress about once a second", async () => {
		const l = lifecycle();
		const h = await connected({ ...l.options, drainDeadlineMs: 3000 });
		await startActors(h, "a1");
		void h.runner.shutdown();
		await h.clock.advance(3000);
		expect(l.log.filter((e) => e.startsWith("progress"))).toEqual([
			"progress:1:1000",
			"progress:1:2000",
			"progress:1:3000",
		]);
	});

	it("immediate: stops every actor locally and sends no ToServerStopping", async () => {
		const l = lifecycle();
		const h = await connected(l.options);
		await startActors(h, "a1", "a2");
		const conn = h.engine.last;
		await h.runner.shutdown({ mode: "immediate" });
		expect(conn.sent("ToServerStopping")).toEqual([]);
		expect(l.stops.map((s) => s.reason)).toEqual(["shutdown", "shutdown"]);
		expect(
			stoppedEvents(conn)
				.map((s) => s.actorId)
				.sort(),
		).toEqual(["a1", "a2"]);
		expect(conn.closeCode).toBe(1000);
		expect(h.runner.actors.size).toBe(0);
		expect(h.clock.pending).toBe(0);
	});

	it("immediate requested during a drain cuts it short", async () => {
		const l = lifecycle();
		const h = await connected({ ...l.options, drainDeadlineMs: 60_000 });
		await startActors(h, "a1");
		const drain = track(h.runner.shutdown());
		await h.clock.advance(1500);
		expect(drain.state.status).toBe("pending");
		const immediate = h.runner.shutdown({ mode: "immediate" });
		await h.clock.advance(0);
		expect(drain.state.status).toBe("fulfilled");
		await immediate;
		expect(l.stops).toEqual([{ actorId: "a1", reason: "shutdown" }]);
		expect(h.clock.pending).toBe(0);
	});

	it("leaves no timers behind after a shutdown while reconnecting", async () => {
		const h = await connected();
		await startActors(h, "a1");
		h.engine.last.drop(1011, "ws.going_away");
		await h.clock.advance(0);
		expect(h.clock.pending).toBeGreaterThan(0);
		await h.runner.shutdown();
		expect(h.clock.pending).toBe(0);
		await h.clock.advance(120_000);
		expect(h.engine.connections).toHaveLength(1);
	});

	it("shutdown before the first handshake rejects start() and leaves nothing behind", async () => {
		const engine = new FakeEngine(null);
		const h = harness({}, engine);
		const started = track(h.runner.start());
		await h.clock.advance(0);
		engine.last.accept();
		await h.runner.shutdown();
		expect(rejection(started)).toBeInstanceOf(RunnerShutdownError);
		expect(h.clock.pending).toBe(0);
		const again = track(h.runner.start());
		await h.clock.advance(0);
		expect(rejection(again)).toBeInstanceOf(RunnerShutdownError);
	});

	it("an aborted start signal drains the runner", async () => {
		const controller = new AbortController();
		const l = lifecycle();
		const h = harness(l.options);
		await h.runner.start({ signal: controller.signal });
		controller.abort();
		await h.clock.advance(0);
		expect(h.engine.last.sent("ToServerStopping")).toHaveLength(1);
		await h.runner.shutdownComplete();
		expect(l.log.at(-1)).toBe("shutdown");
	});
});

describe("eviction", () => {
	it("shuts the runner down and does not reconnect", async () => {
		const l = lifecycle();
		const disconnects: boolean[] = [];
		const h = await connected({
			...l.options,
			onDisconnected: (i) => void disconnects.push(i.willReconnect),
		});
		await startActors(h, "a1");
		h.engine.last.drop(1000, "ws.eviction#x");
		await h.runner.shutdownComplete();
		expect(disconnects).toEqual([false]);
		expect(l.log.at(-1)).toBe("shutdown");
		expect(l.stops).toEqual([{ actorId: "a1", reason: "shutdown" }]);
		await h.clock.advance(300_000);
		expect(h.engine.connections).toHaveLength(1);
		expect(l.stops).toHaveLength(1);
		expect(h.clock.pending).toBe(0);
	});

	it('with onEviction "reconnect" reconnects and stops local actors with reason lost', async () => {
		const l = lifecycle();
		const h = await connected({ ...l.options, onEviction: "reconnect" });
		await startActors(h, "a1");
		h.engine.last.drop(1000, "ws.eviction#x");
		await h.clock.advance(1000);
		expect(h.engine.connections).toHaveLength(2);
		expect(h.runner.connected).toBe(true);
		expect(l.stops).toEqual([{ actorId: "a1", reason: "lost" }]);
		expect(l.log).not.toContain("shutdown");
	});
});

describe("runner lost", () => {
	it("stops actors with reason lost and fails waiting KV after runnerLostTimeoutMs disconnected", async () => {
		const engine = new FakeEngine();
		const l = lifecycle();
		const h = await connected({ ...l.options, runnerLostTimeoutMs: 20_000, kvTimeoutMs: 60_000 }, engine);
		await startActors(h, "a1");
		const kv = track(h.runner.kvGet("a1", [new Uint8Array([1])]));
		engine.autoInit = null; // the engine stays unreachable
		engine.last.drop(1006, "");
		await h.clock.advance(19_999);
		expect(h.runner.hasActor("a1")).toBe(true);
		expect(kv.state.status).toBe("pending");
		await h.clock.advance(1);
		expect(rejection(kv)).toBeInstanceOf(ConnectionLostError);
		expect(l.stops).toEqual([{ actorId: "a1", reason: "lost" }]);
		expect(h.runner.hasActor("a1")).toBe(false);
	});

	it("defaults to twice the engine's runnerLostThreshold", async () => {
		const engine = new FakeEngine();
		const l = lifecycle();
		const h = await connected(l.options, engine);
		await startActors(h, "a1");
		engine.autoInit = null;
		engine.last.drop(1006, "");
		await h.clock.advance(29_999);
		expect(l.stops).toEqual([]);
		await h.clock.advance(1);
		expect(l.stops).toEqual([{ actorId: "a1", reason: "lost" }]);
	});

	it("is cancelled by a successful reconnect", async () => {
		const l = lifecycle();
		const h = await connected({ ...l.options, runnerLostTimeoutMs: 5000 });
		await startActors(h, "a1");
		h.engine.last.drop(1006, "");
		await h.clock.advance(1000);
		expect(h.runner.connected).toBe(true);
		await h.clock.advance(10_000);
		expect(l.stops).toEqual([]);
		expect(h.runner.hasActor("a1")).toBe(true);
	});

	it("a new runnerId on reconnect stops the local actors with reason lost", async () => {
		const engine = new FakeEngine();
		const l = lifecycle();
		const h = await connected(l.options, engine);
		await startActors(h, "a1", "a2");
		engine.autoInit = "runner-2";
		engine.last.drop(1011, "ws.going_away");
		await h.clock.advance(1000);
		expect(h.runner.runnerId).toBe("runner-2");
		expect(l.stops.map((s) => s.reason)).toEqual(["lost", "lost"]);
		expect(h.runner.actors.size).toBe(0);
	});
});
