/**
 * `node dist/main.js`: serves the chat room through the engine's gateway and prints its URL.
 *
 * Environment:
 *   RIVET_ENDPOINT  a deployed engine (default: start an embedded one on loopback)
 *   RIVET_TOKEN     its admin token
 *   RIVET_NAMESPACE its namespace (default "default")
 *   ROOM            the room key (default "lobby")
 *   IDLE_MS         idle time before the room actor sleeps (default 10000)
 *   LOG_LEVEL       runner log level (default "warn")
 */
import { createConsoleLogger, type LogLevel } from "@x/runner-node";
import { startApp } from "./app.ts";

const env = process.env;
const idleMs = Number(env.IDLE_MS ?? 10_000);
if (!Number.isInteger(idleMs) || idleMs < 1) {
	console.error(`IDLE_MS must be a positive number of milliseconds, got "${env.IDLE_MS}"`);
	process.exit(2);
}

const app = await startApp({
	idleMs,
	logger: createConsoleLogger({ level: (env.LOG_LEVEL as LogLevel | undefined) ?? "warn" }),
	...(env.RIVET_ENDPOINT ? { endpoint: env.RIVET_ENDPOINT } : {}),
	...(env.RIVET_TOKEN ? { token: env.RIVET_TOKEN } : {}),
	...(env.RIVET_NAMESPACE ? { namespace: env.RIVET_NAMESPACE } : {}),
	...(env.ROOM ? { room: env.ROOM } : {}),
});

console.log(`Engine: ${app.endpoint}${app.engine ? " (embedded)" : ""}`);
console.log(`Chat room is up. Open it in a browser:\n\n  ${app.url}\n`);
console.log(`The room actor sleeps after ${idleMs / 1000} s without messages. Ctrl-C stops.`);

let signals = 0;
const stop = (signal: string): void => {
	if (++signals > 1) process.exit(130); // a second Ctrl-C does not wait for the drain
	console.log(`\n${signal}: draining the runner and stopping…`);
	app.stop().then(
		() => process.exit(0),
		(error: unknown) => {
			console.error(error);
			process.exit(1);
		},
	);
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
