// End to end on Deno against a real engine: the shared chat scenario (apps/chat-room/test-support) with Deno's
// runner and its global WebSocket.
import assert from "node:assert/strict";
import { runChatScenario } from "@x/example-chat-room/test-support";
import { Runner } from "@x/runner-deno";

Deno.test({
	name: "chat room on Deno keeps every message across sleep and wake, exactly once and in order",
	// The runner and the engine keep timers and sockets beyond the test body; the app's stop() ends them.
	sanitizeOps: false,
	sanitizeResources: false,
	fn: () =>
		runChatScenario({
			Runner,
			WebSocket,
			equal: (actual, expected, what) => assert.deepEqual(actual, expected, what),
		}),
});
