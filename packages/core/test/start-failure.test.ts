import { StopCode } from "@rivetkit/engine-runner-protocol";
import { describe, expect, it } from "vitest";
import type { ActorStartContext, ActorStopContext } from "../src/index.ts";
import {
	collectUnhandled,
	commands,
	connected,
	type Harness,
	sentRunning,
	startCmd,
	stoppedEvents,
} from "./helpers.ts";

type StartFn = (context: ActorStartContext) => void | Promise<void>;

const failures: Array<[string, StartFn, string, RegExp]> = [
	[
		"throws synchronously",
		(c) => {
			if (c.actorId === "bad") throw new Error("sync boom");
		},
		"ACTOR_START_FAILED",
		/sync boom/,
	],
	[
		"rejects",
		async (c) => {
			if (c.actorId === "bad") throw new Error("async boom");
		},
		"ACTOR_START_FAILED",
		/async boom/,
	],
	[
		"throws a non-Error value",
		(c) => {
			if (c.actorId === "bad") throw "plain string";
		},
		"ACTOR_START_FAILED",
		/plain string/,
	],
	[
		"exceeds actorStartTimeoutMs",
		(c) => (c.actorId === "bad" ? new Promise<void>(() => {}) : undefined),
		"TIMEOUT",
		/5000 ms/,
	],
];

async function failStart(onActorStart: StartFn): Promise<{ h: Harness; stops: ActorStopContext[] }> {
	const stops: ActorStopContext[] = [];
	const h = await connected({
		actorStartTimeoutMs: 5000,
		onActorStart,
		onActorStop: (c) => void stops.push(c),
	});
	h.engine.last.push(commands(startCmd("bad")));
	await h.clock.advance(5000);
	await h.engine.until(() => stoppedEvents(h.engine.last, "bad").length > 0);
	return { h, stops };
}

describe.each(failures)("onActorStart that %s", (_name, onActorStart, code, messagePattern) => {
	it("reports Stopped{Error, message} and calls onActorStop once with start-failed", async () => {
		const { h, stops } = await failStart(onActorStart);
		const conn = h.engine.last;
		const stopped = stoppedEvents(conn, "bad");
		expect(stopped).toHaveLength(1);
		expect(stopped[0]!.code).toBe(StopCode.Error);
		expect(stopped[0]!.message).toMatch(messagePattern);
		expect(sentRunning(conn, "bad")).toBe(false);
		expect(stops).toHaveLength(1);
		expect(stops[0]).toMatchObject({ actorId: "bad", generation: 0, reason: "start-failed" });
		expect(h.runner.hasActor("bad")).toBe(false);
		await h.clock.advance(60_000);
		expect(stops).toHaveLength(1);
	});

	it(`calls onError with ${code} at stage actor-start`, async () => {
		const { h } = await failStart(onActorStart);
		const reported = h.errors.filter((e) => e.stage === "actor-start");
		expect(reported).toHaveLength(1);
		expect(reported[0]).toMatchObject({ code, actorId: "bad" });
		expect(reported[0]!.message).toMatch(messagePattern);
	});

	it("keeps the runner connected and able to start another actor", async () => {
		const { h } = await failStart(onActorStart);
		expect(h.runner.connected).toBe(true);
		expect(h.engine.connections).toHaveLength(1);
		h.engine.last.push(commands(startCmd("good")));
		await h.engine.until(() => sentRunning(h.engine.last, "good"));
		expect(h.runner.getActor("good")?.state).toBe("running");
	});

	it("rejects getAndWaitForActor for the failed actor instead of hanging", async () => {
		const stops: ActorStopContext[] = [];
		const h = await connected({
			actorStartTimeoutMs: 5000,
			onActorStart,
			onActorStop: (c) => void stops.push(c),
		});
		h.engine.last.push(commands(startCmd("bad")));
		const waiting = h.runner.getAndWaitForActor("bad");
		const outcome = waiting.then(
			() => "resolved",
			() => "rejected",
		);
		await h.clock.advance(5000);
		expect(await outcome).toBe("rejected");
	});

	it("leaves no unhandled rejection behind", async () => {
		const unhandled = await collectUnhandled(async () => {
			const { h } = await failStart(onActorStart);
			await h.runner.shutdown({ mode: "immediate" });
		});
		expect(unhandled).toEqual([]);
	});
});

describe("onActorStart that settles after its timeout", () => {
	it("is ignored: the actor stays stopped and nothing is reported twice", async () => {
		let finish: () => void = () => {};
		const stops: ActorStopContext[] = [];
		const unhandled = await collectUnhandled(async () => {
			const h = await connected({
				actorStartTimeoutMs: 1000,
				onActorStart: () =>
					new Promise<void>((resolve) => {
						finish = resolve;
					}),
				onActorStop: (c) => void stops.push(c),
			});
			h.engine.last.push(commands(startCmd("slow")));
			await h.clock.advance(1000);
			finish();
			await h.clock.advance(0);
			expect(sentRunning(h.engine.last, "slow")).toBe(false);
			expect(stoppedEvents(h.engine.last, "slow")).toHaveLength(1);
			expect(h.runner.hasActor("slow")).toBe(false);
			expect(h.errors.filter((e) => e.stage === "actor-start")).toHaveLength(1);
		});
		expect(stops.map((s) => s.reason)).toEqual(["start-failed"]);
		expect(unhandled).toEqual([]);
	});

	it("a late rejection after the timeout is not unhandled", async () => {
		let fail: (e: Error) => void = () => {};
		const unhandled = await collectUnhandled(async () => {
			const h = await connected({
				actorStartTimeoutMs: 1000,
				onActorStart: () =>
					new Promise<void>((_resolve, reject) => {
						fail = reject;
					}),
			});
			h.engine.last.push(commands(startCmd("slow")));
			await h.clock.advance(1000);
			fail(new Error("too late"));
			await h.clock.advance(0);
			expect(h.errors.filter((e) => e.stage === "actor-start")).toHaveLength(1);
		});
		expect(unhandled).toEqual([]);
	});
});

describe("onActorStop failures", () => {
	it("reports a throwing onActorStop and still sends Stopped", async () => {
		const h = await connected({
			onActorStop: () => {
				throw new Error("stop boom");
			},
		});
		h.engine.last.push(commands(startCmd("a1")));
		await h.engine.until(() => sentRunning(h.engine.last, "a1"));
		await h.runner.forceStopActor("a1");
		expect(stoppedEvents(h.engine.last, "a1")).toHaveLength(1);
		expect(h.errors).toContainEqual(
			expect.objectContaining({ code: "ACTOR_STOP_FAILED", stage: "actor-stop", actorId: "a1" }),
		);
	});

	it("gives up on onActorStop after actorStopTimeoutMs and reports TIMEOUT", async () => {
		const h = await connected({ actorStopTimeoutMs: 2000, onActorStop: () => new Promise<void>(() => {}) });
		h.engine.last.push(commands(startCmd("a1")));
		await h.engine.until(() => sentRunning(h.engine.last, "a1"));
		void h.runner.forceStopActor("a1");
		await h.clock.advance(1999);
		expect(stoppedEvents(h.engine.last, "a1")).toHaveLength(0);
		await h.clock.advance(1);
		expect(stoppedEvents(h.engine.last, "a1")).toHaveLength(1);
		expect(h.errors).toContainEqual(expect.objectContaining({ code: "TIMEOUT", stage: "actor-stop" }));
	});
});
