import { describe, expect, it } from "vitest";
import { harness } from "./helpers.ts";

describe("runner against the fake engine", () => {
	it("connects, sends init, answers pings, starts an actor and acks the start", async () => {
		const started: string[] = [];
		const h = harness({ onActorStart: ({ actorId }) => void started.push(actorId) });
		await h.runner.start();
		const conn = h.engine.last;
		expect(conn.url).toBe(
			"ws://engine.test/runners/connect?protocol_version=7&namespace=default&runner_key=" +
				conn.url.split("runner_key=")[1],
		);
		expect(conn.sent("ToServerInit")[0]?.name).toBe("pool");
		conn.push({ tag: "ToClientPing", val: { ts: 42n } });
		expect(conn.sent("ToServerPong")).toEqual([{ ts: 42n }]);
		conn.push({
			tag: "ToClientCommands",
			val: [
				{
					checkpoint: { actorId: "a1", generation: 0, index: 0n },
					inner: {
						tag: "CommandStartActor",
						val: { config: { name: "n", key: null, createTs: 1n, input: null }, hibernatingRequests: [] },
					},
				},
			],
		});
		await h.engine.until(() => conn.sent("ToServerEvents").length > 0);
		expect(started).toEqual(["a1"]);
		expect(conn.sent("ToServerAckCommands")[0]?.lastCommandCheckpoints[0]).toMatchObject({
			actorId: "a1",
			index: 0n,
		});
		const events = conn.sent("ToServerEvents").flat();
		expect(events[0]?.inner).toEqual({
			tag: "EventActorStateUpdate",
			val: { state: { tag: "ActorStateRunning", val: null } },
		});
		await h.runner.shutdown({ mode: "immediate" });
		expect(h.runner.actors.size).toBe(0);
	});
});
