/**
 * `@x/runner-node`: the Rivet Engine runner for Node.js. Re-exports all of `@x/runner-core`, with a `Runner` that
 * uses `ws`, pino and process signals by default.
 *
 * @module
 */
export * from "@x/runner-core";
export { defaultNodeLogger, nodePlatform, nodeSignals, nodeWebSocket } from "./platform.ts";
export { createRunner, type NodeRunnerOptions, Runner } from "./runner.ts";
