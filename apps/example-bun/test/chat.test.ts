// End to end on Bun against a real engine: the shared chat scenario (apps/chat-room/test-support) with Bun's runner
// and its global WebSocket.
import { expect, test } from "bun:test";
import { runChatScenario } from "@x/example-chat-room/test-support";
import { Runner } from "@x/runner-bun";

test(
	"chat room on Bun keeps every message across sleep and wake, exactly once and in order",
	() => runChatScenario({ Runner, WebSocket, equal: (actual, expected) => expect(actual).toEqual(expected) }),
	120_000,
);
