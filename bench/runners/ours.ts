/**
 * OUR runner on Bun (`bun run bench/runners/ours.ts`) or Deno (`deno run -A bench/runners/ours.ts`, from bench/,
 * whose deno.json sets `"nodeModulesDir": "manual"`). Settings come from BENCH_* variables.
 *
 * @module
 */
// @ts-nocheck: the adapter is picked at run time; each runtime type-checks its own package.
import { runOurs } from "./ours-app.mjs";

const isDeno = "Deno" in globalThis;
// A computed specifier keeps each runtime from resolving the other's adapter.
const specifier = isDeno ? new URL("../../packages/deno/mod.ts", import.meta.url).href : "@x/runner-bun";
const adapter = await import(specifier);
await runOurs(adapter, isDeno ? "deno" : "bun");
