#!/usr/bin/env node
/**
 * The CDK app entry (`npx cdk synth|deploy`, see cdk.json). Every option is CDK context, listed in
 * docs/DEPLOY.md: `npx cdk deploy -c mode=sqs -c prefix=uploads/`.
 */
import { buildCatalogApp } from "./lib/catalog-stack.js";

buildCatalogApp().app.synth();
