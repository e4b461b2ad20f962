/**
 * The bench app on OUR runner (`@x/runner-core` through an adapter). Each runtime's entry passes its adapter module.
 *
 * @module
 */
import { app, emit, serveControl, settings } from "./control.mjs";

/**
 * Starts our runner with the bench app and serves the control channel.
 * @param {{ Runner: new (options: object) => any, createConsoleLogger: (options: object) => object }} adapter
 * @param {string} runtime "node", "bun" or "deno"
 */
export async function runOurs(adapter, runtime) {
	const { endpoint, runnerName, totalSlots } = settings();
	let actors = 0;
	const stderr = { debug: console.error, info: console.error, warn: console.error, error: console.error };
	const runner = new adapter.Runner({
		endpoint,
		runnerName,
		totalSlots,
		signals: false,
		logger: adapter.createConsoleLogger({ level: "warn", console: stderr }),
		onActorStart: () => {
			actors++;
		},
		onActorStop: () => {
			actors--;
		},
		fetch: (request, ctx) => {
			if (app.isSleep(request.url)) ctx.runner.sleepActor(ctx.actorId);
			return new Response("ok");
		},
		canHibernate: (request) => app.isHibernatable(request.url),
		websocket: (socket) => {
			socket.addEventListener("message", (event) => socket.send(event.data));
		},
	});
	serveControl({
		// Sockets count once open towards the gateway: for hibernatable ones that is after their KV record is written.
		stats: () => ({ actors, sockets: runner.webSocketMetrics.open }),
		shutdown: () => runner.shutdown({ mode: "immediate" }),
	});
	await runner.start();
	emit({ type: "ready", runtime, runner: "ours" });
}
