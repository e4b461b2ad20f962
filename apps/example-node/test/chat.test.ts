// End to end on Node against a real engine: the shared chat scenario (apps/chat-room/test-support) with Node's
// runner and the `ws` package (Node 20 has no global WebSocket).
import { runChatScenario } from "@x/example-chat-room/test-support";
import { Runner } from "@x/runner-node";
import { expect, it } from "vitest";
import WebSocket from "ws";

it("chat room on Node keeps every message across sleep and wake, exactly once and in order", () =>
	runChatScenario({
		Runner,
		WebSocket,
		equal: (actual, expected, what) => expect(actual, what).toEqual(expected),
	}));
