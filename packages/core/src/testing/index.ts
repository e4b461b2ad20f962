/**
 * Test helpers: a manual clock and a scriptable fake engine, for deterministic tests of runners and apps.
 *
 * @module
 */
export { FakeConnection, FakeEngine, initMessage } from "./fake-engine.ts";
export { flushMicrotasks, ManualClock } from "./manual-clock.ts";
