/**
 * `@x/runner-deno`: the Rivet Engine runner for Deno. Re-exports all of `@x/runner-core`, with a `Runner` that uses
 * Deno's WebSocket, `Deno.addSignalListener` and a console logger by default.
 *
 * ```ts
 * import { Runner } from "@x/runner-deno";
 * const runner = new Runner({ endpoint: "http://127.0.0.1:6420", runnerName: "app", totalSlots: 100, onActorStart() {} });
 * await runner.start();
 * ```
 *
 * @module
 */
export * from "@x/runner-core";
export { defaultDenoLogger, denoPlatform, denoSignals, denoWebSocket } from "./src/platform.ts";
export { createRunner, Runner } from "./src/runner.ts";
