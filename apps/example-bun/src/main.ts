/**
 * `bun run src/main.ts`: serves the chat room through the engine's gateway and prints its URL. The room itself (actor,
 * page, wiring) is `@x/example-chat-room`, in apps/chat-room; this file gives it Bun's runner and process.
 *
 * Environment:
 *   RIVET_ENDPOINT  a deployed engine (default: start an embedded one on loopback)
 *   RIVET_TOKEN     its admin token
 *   RIVET_NAMESPACE its namespace (default "default")
 *   ROOM            the room key (default "lobby")
 *   IDLE_MS         idle time before the room actor sleeps (default 10000)
 *   LOG_LEVEL       runner log level (default "warn")
 */
import { describeApp, onStopSignal, readEnv, startApp } from "@x/example-chat-room";
import { Runner } from "@x/runner-bun";

const settings = readEnv((name) => process.env[name]);
if ("error" in settings) {
	console.error(settings.error);
	process.exit(2);
}

const app = await startApp({ ...settings, Runner });
console.log(describeApp(app, settings.idleMs));

// The runner is created with `signals: false`: the app drains it itself, then stops the embedded engine.
const stop = onStopSignal(app, (code) => process.exit(code));
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
