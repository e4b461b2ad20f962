import { StopCode } from "@rivetkit/engine-runner-protocol";
import { describe, expect, it } from "vitest";
import { ActorNotFoundError, InvalidArgumentError } from "../src/index.ts";
import { FakeEngine } from "../src/testing/index.ts";
import {
	ackEvents,
	commands,
	connected,
	deferred,
	events,
	eventsOf,
	kvResponse,
	reconnect,
	startActors,
	startCmd,
	stopCmd,
	stoppedEvents,
} from "./helpers.ts";

function indices(conn: Parameters<typeof events>[0], actorId: string, generation: number): bigint[] {
	return eventsOf(conn, actorId, generation).map((e) => e.checkpoint.index);
}

describe("event numbering", () => {
	it("numbers events per (actor, generation) from 0", async () => {
		const h = await connected();
		await startActors(h, "a1", "a2");
		h.runner.setAlarm("a1", 1000);
		h.runner.setAlarm("a1", 2000);
		h.runner.setAlarm("a2", 3000);
		const conn = h.engine.last;
		expect(indices(conn, "a1", 0)).toEqual([0n, 1n, 2n]);
		expect(indices(conn, "a2", 0)).toEqual([0n, 1n]);
		conn.push(commands(startCmd("a1", 1, 0n)));
		await h.engine.until(() => indices(conn, "a1", 1).length === 1);
		expect(indices(conn, "a1", 1)).toEqual([0n]);
		expect(indices(conn, "a1", 0)).toEqual([0n, 1n, 2n, 3n]); // + Stopped of generation 0
	});

	it("sends each event in its own frame while connected", async () => {
		const h = await connected();
		await startActors(h, "a1");
		h.runner.setAlarm("a1", 5);
		expect(h.engine.last.sent("ToServerEvents").map((batch) => batch.length)).toEqual([1, 1]);
	});
});

describe("intents and alarms", () => {
	it("sleepActor sends ActorIntentSleep and stopActor sends ActorIntentStop", async () => {
		const h = await connected();
		await startActors(h, "a1", "a2");
		h.runner.sleepActor("a1");
		h.runner.stopActor("a2");
		h.runner.destroyActor("a2");
		expect(eventsOf(h.engine.last, "a1").at(-1)?.inner).toEqual({
			tag: "EventActorIntent",
			val: { intent: { tag: "ActorIntentSleep", val: null } },
		});
		expect(
			eventsOf(h.engine.last, "a2")
				.slice(-2)
				.map((e) => e.inner),
		).toEqual([
			{ tag: "EventActorIntent", val: { intent: { tag: "ActorIntentStop", val: null } } },
			{ tag: "EventActorIntent", val: { intent: { tag: "ActorIntentStop", val: null } } },
		]);
		// An intent is a request: the actor keeps running until the engine stops it.
		expect(h.runner.getActor("a1")?.state).toBe("running");
	});

	it("setAlarm sends epoch ms as a bigint, null to clear", async () => {
		const h = await connected();
		await startActors(h, "a1");
		h.runner.setAlarm("a1", 1_700_000_123_456.9);
		h.runner.setAlarm("a1", new Date(42));
		h.runner.setAlarm("a1", null);
		h.runner.clearAlarm("a1");
		expect(
			eventsOf(h.engine.last, "a1")
				.slice(1)
				.map((e) => e.inner),
		).toEqual([
			{ tag: "EventActorSetAlarm", val: { alarmTs: 1_700_000_123_456n } },
			{ tag: "EventActorSetAlarm", val: { alarmTs: 42n } },
			{ tag: "EventActorSetAlarm", val: { alarmTs: null } },
			{ tag: "EventActorSetAlarm", val: { alarmTs: null } },
		]);
	});

	it.each([
		["NaN", Number.NaN],
		["-1", -1],
		["Infinity", Number.POSITIVE_INFINITY],
		['"x"', "x"],
		["an invalid Date", new Date("nope")],
	])("setAlarm rejects %s with InvalidArgumentError", async (_name, value) => {
		const h = await connected();
		await startActors(h, "a1");
		const before = events(h.engine.last).length;
		let thrown: unknown;
		try {
			h.runner.setAlarm("a1", value as unknown as number);
		} catch (error) {
			thrown = error;
		}
		expect(thrown).toBeInstanceOf(InvalidArgumentError);
		expect((thrown as InvalidArgumentError).argument).toBe("timestamp");
		expect(events(h.engine.last)).toHaveLength(before);
	});

	it("intents and alarms for an unknown actor or generation throw ActorNotFoundError", async () => {
		const h = await connected();
		await startActors(h, "a1");
		expect(() => h.runner.sleepActor("nope")).toThrow(ActorNotFoundError);
		expect(() => h.runner.stopActor("a1", 7)).toThrow(ActorNotFoundError);
		expect(() => h.runner.setAlarm("nope", 1)).toThrow(ActorNotFoundError);
		expect(() => h.runner.sleepActor("")).toThrow(InvalidArgumentError);
	});
});

describe("acknowledgements and resend", () => {
	it("prunes history up to the acked index of the same (actor, generation)", async () => {
		const h = await connected();
		await startActors(h, "a1");
		h.runner.setAlarm("a1", 1);
		h.runner.setAlarm("a1", 2);
		h.engine.last.push(ackEvents({ actorId: "a1", generation: 0, index: 1n }));
		const conn = await reconnect(h);
		expect(indices(conn, "a1", 0)).toEqual([2n]);
	});

	it("an ack for another generation or actor prunes nothing", async () => {
		const h = await connected();
		await startActors(h, "a1");
		h.runner.setAlarm("a1", 1);
		h.engine.last.push(
			ackEvents({ actorId: "a1", generation: 1, index: 100n }, { actorId: "zz", generation: 0, index: 100n }),
		);
		const conn = await reconnect(h);
		expect(indices(conn, "a1", 0)).toEqual([0n, 1n]);
	});

	it("resends unacked events after a reconnect in chunks of limits.eventResendChunk", async () => {
		const h = await connected({ limits: { eventResendChunk: 2 } });
		await startActors(h, "a1", "a2");
		h.runner.setAlarm("a1", 1);
		h.runner.setAlarm("a2", 2);
		h.runner.setAlarm("a2", 3);
		const conn = await reconnect(h);
		expect(conn.sent("ToServerEvents").map((b) => b.length)).toEqual([2, 2, 1]);
		expect(indices(conn, "a1", 0)).toEqual([0n, 1n]);
		expect(indices(conn, "a2", 0)).toEqual([0n, 1n, 2n]);
	});

	it("resends the history of a replaced generation that is still stopping, before the newer one's", async () => {
		const stopping = deferred();
		const h = await connected({ onActorStop: (c) => (c.generation === 0 ? stopping.promise : undefined) });
		await startActors(h, "a1");
		h.engine.last.push(commands(startCmd("a1", 1, 1n)));
		await h.engine.until(() => indices(h.engine.last, "a1", 1).length === 1);
		h.engine.last.push(ackEvents({ actorId: "a1", generation: 1, index: 0n }));
		let conn = await reconnect(h);
		expect(eventsOf(conn, "a1").map((e) => `${e.checkpoint.generation}:${e.checkpoint.index}`)).toEqual([
			"0:0",
		]);
		conn.push(ackEvents({ actorId: "a1", generation: 0, index: 0n }));
		conn = await reconnect(h);
		expect(eventsOf(conn, "a1")).toEqual([]);
		stopping.resolve();
		await h.engine.until(() => stoppedEvents(conn, "a1").length === 1);
		expect(indices(conn, "a1", 0)).toEqual([1n]);
	});

	it("keeps events recorded while disconnected and sends them after the reconnect", async () => {
		const h = await connected();
		await startActors(h, "a1");
		h.engine.last.drop(1011, "ws.going_away");
		h.runner.setAlarm("a1", 9);
		await h.clock.advance(1000);
		expect(eventsOf(h.engine.last, "a1").map((e) => e.inner.tag)).toEqual([
			"EventActorStateUpdate",
			"EventActorSetAlarm",
		]);
	});
});

describe("history of a stopped actor", () => {
	async function stoppedWithHistory() {
		const h = await connected();
		await startActors(h, "a1");
		h.engine.last.push(commands(stopCmd("a1")));
		await h.engine.until(() => stoppedEvents(h.engine.last, "a1").length === 1);
		expect(h.runner.hasActor("a1")).toBe(false);
		return h;
	}

	function barriers(conn: Parameters<typeof events>[0]) {
		return conn
			.sent("ToServerKvRequest")
			.filter((r) => r.actorId === "a1" && r.data.tag === "KvGetRequest" && r.data.val.keys.length === 0);
	}

	it("sends a delivery barrier (an empty KvGetRequest) once the actor stopped", async () => {
		const h = await stoppedWithHistory();
		expect(barriers(h.engine.last)).toHaveLength(1);
	});

	it("survives a disconnect and is resent after the reconnect", async () => {
		const h = await stoppedWithHistory();
		const conn = await reconnect(h);
		expect(indices(conn, "a1", 0)).toEqual([0n, 1n]);
		expect(barriers(conn).length).toBeGreaterThan(0);
	});

	it.each([
		["KvGetResponse", { tag: "KvGetResponse", val: { keys: [], values: [], metadata: [] } }],
		["KvErrorResponse", { tag: "KvErrorResponse", val: { message: "actor does not exist" } }],
	] as const)("is released once the barrier is answered (%s)", async (_name, data) => {
		const h = await stoppedWithHistory();
		const conn = await reconnect(h);
		for (const b of barriers(conn)) conn.push(kvResponse(b.requestId, data));
		await h.clock.advance(0);
		const next = await reconnect(h);
		expect(eventsOf(next, "a1")).toEqual([]);
		expect(barriers(next)).toEqual([]);
	});

	it("is released by an answer to the barrier on the first connection too", async () => {
		const h = await stoppedWithHistory();
		const [b] = barriers(h.engine.last);
		h.engine.last.push(kvResponse(b!.requestId, { tag: "KvErrorResponse", val: { message: "gone" } }));
		await h.clock.advance(0);
		const conn = await reconnect(h);
		expect(eventsOf(conn, "a1")).toEqual([]);
	});

	it("of an older generation is kept apart from the newer one, resent first, and released on its own", async () => {
		const h = await stoppedWithHistory();
		h.engine.last.push(commands(startCmd("a1", 1, 1n)));
		await h.engine.until(() => indices(h.engine.last, "a1", 1).length === 1);
		h.runner.setAlarm("a1", 5);
		h.engine.last.push(ackEvents({ actorId: "a1", generation: 1, index: 0n }));
		const conn = await reconnect(h);
		const resent = eventsOf(conn, "a1").map((e) => `${e.checkpoint.generation}:${e.checkpoint.index}`);
		expect(resent).toEqual(["0:0", "0:1", "1:1"]);
		for (const b of barriers(conn))
			conn.push(kvResponse(b.requestId, { tag: "KvErrorResponse", val: { message: "gone" } }));
		await h.clock.advance(0);
		const next = await reconnect(h);
		expect(indices(next, "a1", 0)).toEqual([]);
		expect(indices(next, "a1", 1)).toEqual([1n]);
		h.runner.setAlarm("a1", 6);
		expect(indices(next, "a1", 1)).toEqual([1n, 2n]);
	});

	it("is what gives way, oldest first and reported once, when the history passes limits.maxEventHistory", async () => {
		const h = await connected({ limits: { maxEventHistory: 16 } });
		await startActors(h, "a1", "a2");
		h.engine.last.push(commands(stopCmd("a1")));
		await h.engine.until(() => stoppedEvents(h.engine.last, "a1").length === 1);
		for (let i = 0; i < 13; i++) h.runner.setAlarm("a2", 1000 + i); // 2 + 1 + 13 = 16 events kept
		expect(h.errors.filter((e) => e.code === "BUFFER_FULL")).toEqual([]);
		h.runner.setAlarm("a2", 2000);
		h.runner.setAlarm("a2", 2001);
		expect(h.errors.filter((e) => e.code === "BUFFER_FULL").map((e) => e.actorId)).toEqual(["a1"]);
		const conn = await reconnect(h);
		expect(indices(conn, "a1", 0)).toEqual([]);
		expect(indices(conn, "a2", 0)).toEqual(Array.from({ length: 16 }, (_, i) => BigInt(i)));
	});

	it("stays while the barrier is unanswered, even after the barrier times out", async () => {
		const h = await stoppedWithHistory();
		await h.clock.advance(30_000); // the KV deadline of the barrier
		const conn = await reconnect(h);
		expect(indices(conn, "a1", 0)).toEqual([0n, 1n]);
	});
});

describe("stop codes", () => {
	async function stopWith(kind: "sleep" | "destroy" | "drain" | "forced" | "lost" | "engine") {
		const engine = new FakeEngine();
		const h = await connected({ runnerLostTimeoutMs: 5000 }, engine);
		await startActors(h, "a1");
		const conn = h.engine.last;
		if (kind === "sleep") h.runner.sleepActor("a1");
		if (kind === "destroy") h.runner.stopActor("a1");
		if (kind === "sleep" || kind === "destroy" || kind === "engine") conn.push(commands(stopCmd("a1")));
		if (kind === "drain") {
			void h.runner.shutdown();
			await h.clock.advance(0);
			expect(conn.sent("ToServerStopping")).toHaveLength(1);
			conn.push(commands(stopCmd("a1")));
		}
		if (kind === "forced") await h.runner.forceStopActor("a1");
		if (kind === "lost") {
			engine.autoInit = null;
			conn.drop(1011, "ws.going_away");
			await h.clock.advance(5000);
			engine.last.accept();
			engine.last.push({
				tag: "ToClientInit",
				val: {
					runnerId: "runner-1",
					metadata: {
						runnerLostThreshold: 15_000n,
						actorStopThreshold: 1n,
						serverlessDrainGracePeriod: null,
					},
				},
			});
		}
		await h.clock.advance(0);
		const stopped = h.engine.connections.flatMap((c) => stoppedEvents(c, "a1"));
		expect(stopped.length).toBeGreaterThan(0);
		return stopped[0]!;
	}

	it("sleep intent → Ok", async () => {
		expect((await stopWith("sleep")).code).toBe(StopCode.Ok);
	});
	it("destroy intent → Ok", async () => {
		expect((await stopWith("destroy")).code).toBe(StopCode.Ok);
	});
	it("drain → Ok", async () => {
		expect((await stopWith("drain")).code).toBe(StopCode.Ok);
	});
	it("forced → Error with a message", async () => {
		const s = await stopWith("forced");
		expect(s.code).toBe(StopCode.Error);
		expect(s.message).toMatch(/forced/);
	});
	it("lost → Error", async () => {
		const s = await stopWith("lost");
		expect(s.code).toBe(StopCode.Error);
		expect(s.message).toMatch(/lost/);
	});
	it("an engine stop without an intent (not draining) → Error", async () => {
		expect((await stopWith("engine")).code).toBe(StopCode.Error);
	});
	it("Ok stops carry no message", async () => {
		expect((await stopWith("sleep")).message).toBeNull();
	});
});
