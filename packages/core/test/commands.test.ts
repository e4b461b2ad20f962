import { StopCode } from "@rivetkit/engine-runner-protocol";
import { describe, expect, it } from "vitest";
import type { ActorStartContext, ActorStopContext } from "../src/index.ts";
import {
	acks,
	commands,
	connected,
	deferred,
	eventsOf,
	reconnect,
	sentRunning,
	startActors,
	startCmd,
	stopCmd,
	stoppedEvents,
	track,
} from "./helpers.ts";

function recorder() {
	const starts: ActorStartContext[] = [];
	const stops: ActorStopContext[] = [];
	return {
		starts,
		stops,
		onActorStart: (c: ActorStartContext) => void starts.push(c),
		onActorStop: (c: ActorStopContext) => void stops.push(c),
	};
}

describe("CommandStartActor", () => {
	it("registers the actor synchronously, before onActorStart resolves", async () => {
		const gate = deferred();
		const h = await connected({ onActorStart: () => gate.promise });
		h.engine.last.push(commands(startCmd("a1", 2, 0n)));
		expect(h.runner.hasActor("a1")).toBe(true);
		expect(h.runner.hasActor("a1", 2)).toBe(true);
		expect(h.runner.hasActor("a1", 1)).toBe(false);
		expect(h.runner.getActor("a1")?.state).toBe("starting");
		expect(h.runner.getActor("a1")?.config).toMatchObject({
			name: "counter",
			key: null,
			createTs: 1n,
			input: null,
		});
		gate.resolve();
		await h.engine.until(() => h.runner.getActor("a1")?.state === "running");
		expect(sentRunning(h.engine.last, "a1", 2)).toBe(true);
	});

	it("passes the decoded input to onActorStart", async () => {
		const seen: Array<Uint8Array | null> = [];
		const h = await connected({ onActorStart: (c) => void seen.push(c.config.input) });
		const cmd = startCmd("a1");
		const input = new Uint8Array([1, 2, 3]).buffer;
		h.engine.last.push(
			commands({
				...cmd,
				inner: {
					tag: "CommandStartActor",
					val: { config: { name: "n", key: "k", createTs: 5n, input }, hibernatingRequests: [] },
				},
			}),
		);
		await h.engine.until(() => seen.length === 1);
		expect(seen[0]).toEqual(new Uint8Array([1, 2, 3]));
	});

	it("acks the start at once, before onActorStart resolves", async () => {
		const gate = deferred();
		const h = await connected({ onActorStart: () => gate.promise });
		h.engine.last.push(commands(startCmd("a1", 0, 3n)));
		expect(acks(h.engine.last)).toEqual([{ actorId: "a1", generation: 0, index: 3n }]);
		expect(sentRunning(h.engine.last, "a1")).toBe(false);
		gate.resolve();
	});

	it("ignores a replayed start of the same generation and acks it again", async () => {
		const r = recorder();
		const h = await connected(r);
		await startActors(h, "a1");
		const record = h.runner.getActor("a1");
		h.engine.last.push(commands(startCmd("a1")));
		await h.clock.advance(0);
		expect(r.starts).toHaveLength(1);
		expect(h.runner.getActor("a1")).toBe(record);
		expect(acks(h.engine.last)).toHaveLength(2);
		expect(eventsOf(h.engine.last, "a1")).toHaveLength(1);
	});

	it("does not start again a generation that already stopped when its start is replayed after a reconnect", async () => {
		const r = recorder();
		const h = await connected(r);
		await startActors(h, "a1");
		h.engine.last.push(commands(stopCmd("a1", 0, 1n)));
		await h.engine.until(() => stoppedEvents(h.engine.last, "a1").length === 1);
		const conn = await reconnect(h);
		conn.push(commands(startCmd("a1", 0, 0n), stopCmd("a1", 0, 1n)));
		await h.clock.advance(0);
		expect(r.starts).toHaveLength(1);
		expect(r.stops).toHaveLength(1);
		expect(h.runner.hasActor("a1")).toBe(false);
		// One checkpoint per (actor, generation) with the highest index covers both replayed commands.
		expect(acks(conn)).toContainEqual({ actorId: "a1", generation: 0, index: 1n });
	});

	it("remembers the last limits.maxCommandTombstones stopped actors; hosted actors do not use up the room", async () => {
		const r = recorder();
		const h = await connected({ ...r, limits: { maxCommandTombstones: 16 } });
		const hosted = Array.from({ length: 20 }, (_, i) => `h${i}`);
		const gone = Array.from({ length: 17 }, (_, i) => `g${i}`);
		await startActors(h, ...hosted, ...gone);
		h.engine.last.push(commands(...gone.map((id) => stopCmd(id))));
		await h.engine.until(() => gone.every((id) => stoppedEvents(h.engine.last, id).length === 1));
		const conn = await reconnect(h);
		conn.push(commands(...[...hosted, ...gone].map((id) => startCmd(id))));
		await h.clock.advance(0);
		// g0 was the oldest of 17 tombstones: forgotten, so its replayed start runs again; nothing else does.
		expect(r.starts.map((c) => c.actorId).slice(hosted.length + gone.length)).toEqual(["g0"]);
	});

	it("replaces an older running generation with a newer one; the old gets onActorStop(engine)", async () => {
		const r = recorder();
		const h = await connected(r);
		await startActors(h, "a1");
		h.engine.last.push(commands(startCmd("a1", 1, 0n)));
		expect(h.runner.getActor("a1")?.generation).toBe(1);
		await h.engine.until(() => sentRunning(h.engine.last, "a1", 1) && r.stops.length === 1);
		expect(r.stops[0]).toMatchObject({ actorId: "a1", generation: 0, reason: "engine" });
		expect(r.starts.map((s) => s.generation)).toEqual([0, 1]);
		expect(stoppedEvents(h.engine.last, "a1").map((s) => s.generation)).toEqual([0]);
		expect(h.runner.getActor("a1")?.generation).toBe(1);
		expect(h.runner.getActor("a1")?.state).toBe("running");
	});

	it("ignores a start of an older generation than the one hosted", async () => {
		const r = recorder();
		const h = await connected(r);
		h.engine.last.push(commands(startCmd("a1", 3, 0n)));
		await h.engine.until(() => sentRunning(h.engine.last, "a1", 3));
		h.engine.last.push(commands(startCmd("a1", 2, 0n)));
		await h.clock.advance(0);
		expect(r.starts.map((s) => s.generation)).toEqual([3]);
		expect(r.stops).toEqual([]);
		expect(h.runner.getActor("a1")?.generation).toBe(3);
	});
});

describe("CommandStopActor", () => {
	it("ignores a stop for another generation, but acks it", async () => {
		const r = recorder();
		const h = await connected(r);
		h.engine.last.push(commands(startCmd("a1", 1, 0n)));
		await h.engine.until(() => sentRunning(h.engine.last, "a1", 1));
		h.engine.last.push(commands(stopCmd("a1", 0, 5n)));
		await h.clock.advance(0);
		expect(r.stops).toEqual([]);
		expect(h.runner.getActor("a1")?.state).toBe("running");
		expect(acks(h.engine.last)).toContainEqual({ actorId: "a1", generation: 0, index: 5n });
	});

	it("aborts the actor's signal with the stop reason, also for a signal first read after the stop", async () => {
		const r = recorder();
		const h = await connected(r);
		await startActors(h, "a1", "a2");
		const early = r.starts.find((c) => c.actorId === "a1")!.signal;
		const late = r.starts.find((c) => c.actorId === "a2")!;
		expect(early.aborted).toBe(false);
		h.engine.last.push(commands(stopCmd("a1"), stopCmd("a2")));
		await h.engine.until(() => stoppedEvents(h.engine.last, "a2").length === 1);
		expect([early.aborted, early.reason]).toEqual([true, "engine"]);
		expect([late.signal.aborted, late.signal.reason]).toEqual([true, "engine"]);
	});

	it("acks a stop for an unknown actor at once", async () => {
		const h = await connected();
		h.engine.last.push(commands(stopCmd("ghost", 0, 1n)));
		expect(acks(h.engine.last)).toEqual([{ actorId: "ghost", generation: 0, index: 1n }]);
	});

	it("acks a stop only after the Stopped event was sent", async () => {
		const gate = deferred();
		const h = await connected({ onActorStop: () => gate.promise });
		await startActors(h, "a1");
		const conn = h.engine.last;
		conn.push(commands(stopCmd("a1", 0, 1n)));
		await h.clock.advance(0);
		expect(h.runner.getActor("a1")?.state).toBe("stopping");
		expect(acks(conn)).not.toContainEqual({ actorId: "a1", generation: 0, index: 1n });
		expect(stoppedEvents(conn)).toEqual([]);
		gate.resolve();
		await h.engine.until(() => acks(conn).some((a) => a.index === 1n));
		const stoppedAt = conn.received.findIndex(
			(m) =>
				m.tag === "ToServerEvents" &&
				m.val.some(
					(e) => e.inner.tag === "EventActorStateUpdate" && e.inner.val.state.tag === "ActorStateStopped",
				),
		);
		const ackAt = conn.received.findIndex(
			(m) => m.tag === "ToServerAckCommands" && m.val.lastCommandCheckpoints.some((c) => c.index === 1n),
		);
		expect(stoppedAt).toBeGreaterThan(-1);
		expect(ackAt).toBeGreaterThan(stoppedAt);
		expect(h.runner.hasActor("a1")).toBe(false);
	});

	it("sends an ack that could not be written while disconnected after the reconnect", async () => {
		const gate = deferred();
		const h = await connected({ onActorStop: () => gate.promise });
		await startActors(h, "a1");
		h.engine.last.push(commands(stopCmd("a1", 0, 1n)));
		h.engine.last.drop(1011, "ws.going_away");
		gate.resolve();
		await h.clock.advance(0);
		expect(h.runner.hasActor("a1")).toBe(false);
		await h.clock.advance(1000);
		expect(acks(h.engine.last)).toContainEqual({ actorId: "a1", generation: 0, index: 1n });
	});

	it("waits for a pending start before stopping", async () => {
		const order: string[] = [];
		const gate = deferred();
		const h = await connected({
			onActorStart: async () => {
				await gate.promise;
				order.push("started");
			},
			onActorStop: (c) => void order.push(`stop:${c.reason}`),
		});
		h.engine.last.push(commands(startCmd("a1"), stopCmd("a1", 0, 1n)));
		await h.clock.advance(0);
		expect(order).toEqual([]);
		expect(h.runner.getActor("a1")?.state).toBe("starting");
		gate.resolve();
		await h.engine.until(() => stoppedEvents(h.engine.last, "a1").length === 1);
		expect(order).toEqual(["started", "stop:engine"]);
		expect(h.runner.hasActor("a1")).toBe(false);
	});

	it("calls onActorStop exactly once when a stop command, forceStopActor and shutdown race", async () => {
		const gate = deferred();
		const stops: ActorStopContext[] = [];
		const h = await connected({
			onActorStop: (c) => {
				stops.push(c);
				return gate.promise;
			},
		});
		await startActors(h, "a1");
		h.engine.last.push(commands(stopCmd("a1", 0, 1n)));
		const forced = track(h.runner.forceStopActor("a1"));
		const shut = track(h.runner.shutdown({ mode: "immediate" }));
		await h.clock.advance(0);
		gate.resolve();
		await h.clock.advance(0);
		expect(forced.state.status).toBe("fulfilled");
		expect(shut.state.status).toBe("fulfilled");
		expect(stops).toHaveLength(1);
		expect(stops[0]?.reason).toBe("engine");
		const stopped = h.engine.connections.flatMap((c) => stoppedEvents(c, "a1"));
		expect(stopped).toHaveLength(1);
		expect(stopped[0]?.code).toBe(StopCode.Error);
	});
});
