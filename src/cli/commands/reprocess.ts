import type { Command } from "commander";
import { EXTRACTOR_VERSION } from "../../engine/version.js";
import { REPROCESS_RULE } from "../catalog-pass.js";
import { registerPassCommand } from "./backfill.js";

/** `catalog reprocess`: re-extract records made by an older extractor. */
export function registerReprocess(program: Command): void {
  registerPassCommand(program, {
    name: "reprocess",
    description: `re-extract objects whose record comes from an extractor older than ${EXTRACTOR_VERSION}`,
    eventName: "Catalog:Reprocess",
    principalId: "catalog-reprocess",
    rule: REPROCESS_RULE,
  });
}
