/**
 * The function's table permissions against what the handler really sends:
 * every DynamoDB command of an object's whole life (new, copy of other
 * content, redelivery, overwrite, delete, permanent version delete), counted
 * on the wire against the embedded server, must be an action the stack
 * grants. A missing grant fails only on AWS, as AccessDenied on every such
 * event; dynalite checks no permissions.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { TABLE_ACTIONS } from "../../infra/lib/catalog-function.js";
import { toS3Notification } from "../../src/events/s3-event.js";
import { type HandlerStack, nextSequencer, removal, startStack, upload } from "../lambda/fixtures.js";

let stack: HandlerStack;
const sent = new Set<string>();

beforeAll(async () => {
  stack = await startStack();
  stack.servers.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      sent.add(`dynamodb:${(context.commandName ?? "").replace(/Command$/, "")}`);
      return next(args);
    },
    { step: "initialize", name: "recordTableActions" },
  );
});
afterAll(() => stack.servers.stop());

it("sends only table actions the stack grants, over an object's whole life", async () => {
  // Prepare
  const handle = stack.handler();
  const run = (event: Parameters<typeof toS3Notification>[0][number]) => handle(toS3Notification([event]));
  // Act
  const first = await upload(stack, "life/a.png", { corpus: "filetype-fixture.png" });
  await run(first);
  await run(await upload(stack, "life/b.png", { corpus: "filetype-fixture.png" }));
  await run(first);
  await run(await upload(stack, "life/a.png", { corpus: "filetype-fixture.gif" }));
  await run(removal(stack, "life/b.png"));
  await run({
    ...removal(stack, "life/a.png"),
    versionId: "3HL4kqtJlcpXroDTDmJ",
    sequencer: nextSequencer(),
  });
  // Assess
  expect(sent.size).toBeGreaterThan(3);
  expect([...sent].filter((action) => !TABLE_ACTIONS.includes(action))).toEqual([]);
});
