#!/usr/bin/env node
/**
 * The CDK app entry (`npx cdk synth|deploy`, see cdk.json). Every option is CDK context, listed in
 * docs/DEPLOY.md: `npx cdk deploy -c mode=sqs -c prefix=uploads/`.
 */
import { buildCatalogApp } from "./lib/catalog-stack.js";
import { configurationProblem } from "./lib/errors.js";

try {
  // Synthesized here, not on exit: a stack that failed half-way through construction must not be synthesized.
  buildCatalogApp({}, { autoSynth: false }).app.synth();
} catch (error) {
  // A wrong setting is the deployer's to fix: one line naming it, not a stack trace through the app.
  const problem = configurationProblem(error);
  if (problem === undefined) throw error;
  process.stderr.write(`${problem}\n`);
  process.exitCode = 1;
}
