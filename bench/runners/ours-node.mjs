/**
 * OUR runner on Node: `node --expose-gc bench/runners/ours-node.mjs` (settings come from BENCH_* variables).
 *
 * @module
 */
import * as adapter from "@x/runner-node";
import { runOurs } from "./ours-app.mjs";

await runOurs(adapter, "node");
