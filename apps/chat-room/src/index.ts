/**
 * `@x/example-chat-room`: the chat room of the Node, Bun and Deno examples, written once. It imports only
 * `@x/runner-core` and `@x/dev-engine`; each example passes its adapter's `Runner` to {@link startApp}.
 *
 * @module
 */
export { type App, type AppOptions, startApp } from "./app.ts";
export { describeApp, type EnvSettings, onStopSignal, readEnv } from "./cli.ts";
export { renderPage } from "./page.ts";
export {
	type ChatMessage,
	createRoomRunner,
	type EngineOptions,
	type RunnerClass,
	type ServerEvent,
} from "./room.ts";
