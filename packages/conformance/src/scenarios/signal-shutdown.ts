/**
 * Graceful shutdown by signal: a child process of the same runtime runs the adapter's `Runner` with
 * `signals: { exit: true }`; SIGTERM drains it (the engine stops every actor), and it exits 0.
 *
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import type { ProcessExit, RunnerProcess } from "../env.ts";
import { engineActor, gatewayRequest, settleWithin, text, waitFor } from "../support.ts";
import type { Scenario } from "./types.ts";

const PREFIX = "conformance:";
const ACTORS = 3;

/** The child's protocol lines (without the prefix). */
function protocolLines(child: RunnerProcess): string[] {
	return child.lines.filter((line) => line.startsWith(PREFIX)).map((line) => line.slice(PREFIX.length));
}

async function exitWithin(child: RunnerProcess, ms: number): Promise<ProcessExit | undefined> {
	let exit: ProcessExit | undefined;
	await settleWithin(
		child.exited.then((value) => {
			exit = value;
		}),
		ms,
	);
	return exit;
}

export const signalShutdown: Scenario = {
	name: "SIGTERM drains a runner in a child process: the engine stops every actor and the process exits 0",
	timeoutMs: 60_000,
	async run(ctx) {
		const engine = await ctx.engine();
		const pool = await ctx.pool("signal");
		const child = ctx.env.spawnRunnerProcess(ctx.env.signalRunnerScript, {
			CONFORMANCE_ENDPOINT: engine.endpoint,
			CONFORMANCE_POOL: pool,
			LOG_LEVEL: "warn",
			DENO_NO_UPDATE_CHECK: "1",
			NO_COLOR: "1",
		});
		ctx.scope.defer(async () => {
			if ((await exitWithin(child, 0)) === undefined) {
				child.kill("SIGKILL");
				await exitWithin(child, 5_000);
			}
		});
		const diagnostics = (): string => `child output:\n${child.output()}`;
		const early = child.exited.then((exit) => {
			throw new Error(`the child exited early (${JSON.stringify(exit)}); ${diagnostics()}`);
		});
		const waitChild = <T>(check: () => T, what: string, ms = 30_000): Promise<NonNullable<T>> =>
			Promise.race([waitFor(check, what, ms), early]).catch((error: unknown) => {
				throw new Error(`${String(error)}\n${diagnostics()}`);
			});
		early.catch(() => undefined);

		await waitChild(() => protocolLines(child).find((l) => l.startsWith("connected ")), "child connected");
		const ids: string[] = [];
		for (let i = 0; i < ACTORS; i++) {
			const actor = await ctx.createActor({
				name: "sig",
				key: `${pool}-${i}`,
				runnerNameSelector: pool,
				crashPolicy: "restart",
			});
			ids.push(actor.actorId);
		}
		await waitChild(
			() => ids.every((id) => protocolLines(child).includes(`started ${id}`)),
			`${ACTORS} actors started in the child`,
		);
		for (const id of ids) {
			await waitFor(async () => (await engineActor(engine, id)).connectableTs, `engine: ${id} connectable`);
		}
		const served = await gatewayRequest(engine, ids[0]!, "/who");
		assertEquals(
			[served.status, text(served.body)],
			[200, `${ctx.env.runtime} child ${ids[0]}`],
			"the child serves the actor",
		);

		child.kill("SIGTERM");
		const exit = await exitWithin(child, 40_000);
		assert(exit !== undefined, `the child did not exit within 40 s of SIGTERM; ${diagnostics()}`);
		assertEquals(exit, { code: 0, signal: null }, `child exit; ${diagnostics()}`);

		const lines = protocolLines(child);
		for (const id of ids) {
			assertEquals(
				lines.filter((l) => l.startsWith(`stopped ${id} `)),
				[`stopped ${id} engine`],
				`stops of ${id} (engine-driven, exactly one); ${diagnostics()}`,
			);
		}
		assertEquals(lines.at(-1), "shutdown", `last line of the child; ${diagnostics()}`);
		assert(child.output().includes("SIGTERM received"), `the signal notice on stderr; ${diagnostics()}`);
		for (const id of ids) {
			const actor = await waitFor(async () => {
				const a = await engineActor(engine, id);
				return a.connectableTs === null ? a : null;
			}, `engine: ${id} no longer connectable`);
			assertEquals(actor.destroyTs, null, `engine: ${id} stopped, not destroyed`);
		}
	},
};
