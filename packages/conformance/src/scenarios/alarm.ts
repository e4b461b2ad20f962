/**
 * Alarms: a sleeping actor is started again by the engine when its alarm is due, without any request.
 *
 * @module
 */
import { assert, assertBetween, assertEquals } from "../assert.ts";
import { engineActor, Recorder, sleep, waitFor } from "../support.ts";
import type { Scenario } from "./types.ts";

export const alarmWake: Scenario = {
	name: "alarm: a sleeping actor is woken by its alarm, not before, with no request",
	timeoutMs: 45_000,
	async run(ctx) {
		const engine = await ctx.engine();
		const pool = await ctx.pool("alarm");
		const rec = new Recorder();
		const runner = await ctx.runner(pool, rec.callbacks());
		await runner.start();
		const { actorId } = await ctx.createActor({
			name: "alarm",
			runnerNameSelector: pool,
			crashPolicy: "restart",
		});
		const idle = await ctx.createActor({
			name: "idle",
			runnerNameSelector: pool,
			crashPolicy: "restart",
		});
		await waitFor(
			() =>
				runner.getActor(actorId)?.state === "running" && runner.getActor(idle.actorId)?.state === "running",
			"actors running",
		);

		const alarmAt = Date.now() + 2500;
		runner.setAlarm(actorId, alarmAt);
		runner.sleepActor(actorId);
		// A control actor that sleeps with no alarm stays asleep.
		runner.sleepActor(idle.actorId);
		const stop = await waitFor(() => rec.stopsOf(actorId)[0], "alarm actor asleep");
		assertEquals(stop.reason, "sleep", "stop reason");
		assert(stop.at < alarmAt, `the actor fell asleep ${stop.at - alarmAt} ms after its alarm time`);
		await waitFor(() => rec.stopsOf(idle.actorId)[0]?.reason === "sleep", "control actor asleep");
		assertEquals(rec.startsOf(actorId).length, 1, "starts before the alarm is due");
		assertEquals((await engineActor(engine, actorId)).destroyTs, null, "destroyTs while asleep");

		const wake = await waitFor(() => rec.startsOf(actorId)[1], "the alarm restarts the actor", 20_000);
		assertEquals(wake.generation, 1, "generation after the alarm");
		assertBetween(wake.at - alarmAt, -50, 10_000, "ms between the alarm time and the restart");
		await waitFor(
			async () => (await engineActor(engine, actorId)).connectableTs,
			"engine: connectable again",
		);
		await sleep(500);
		assertEquals(rec.startsOf(idle.actorId).length, 1, "starts of the control actor (no alarm)");
		assertEquals(runner.hasActor(idle.actorId), false, "control actor still asleep");
		assertEquals(rec.errors, [], "onError reports");
	},
};
