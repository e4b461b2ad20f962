/**
 * `@x/runner-bun`: the Rivet Engine runner for Bun. Re-exports all of `@x/runner-core`, with a `Runner` that uses
 * Bun's WebSocket, pino and process signals by default.
 *
 * @module
 */
export * from "@x/runner-core";
export { bunPlatform, bunSignals, bunWebSocket, defaultBunLogger } from "./platform.ts";
export { createRunner, Runner } from "./runner.ts";
