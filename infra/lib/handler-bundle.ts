import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type BundlingOptions, OutputFormat, SourceMapMode } from "aws-cdk-lib/aws-lambda-nodejs";
import type { BuildOptions } from "esbuild";

/**
 * How the Lambda handler is bundled: one definition that the CDK stack
 * (through {@link lambdaBundlingOptions}) and the bundle benchmark (through
 * {@link esbuildBuildOptions}) both read, so the benchmark measures exactly
 * the artefact that is deployed.
 */

/** Repository root: where package-lock.json lives and esbuild resolves from. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The handler module, relative to {@link PROJECT_ROOT}; its `handler` export is the function's entry. */
export const HANDLER_ENTRY = "src/lambda/handler.ts";

/** The exported function name inside {@link HANDLER_ENTRY}. */
export const HANDLER_EXPORT = "handler";

/**
 * file-type, strtok3 and @tokenizer/* are ESM-only and the Lambda runtime does not `require()` ESM, so
 * the bundle is ESM. Some dependencies are still CommonJS and call `require()` for Node built-ins;
 * esbuild's ESM output has no `require`, so the banner recreates one from `import.meta.url`.
 */
export const CJS_REQUIRE_BANNER =
  "import { createRequire as topLevelCreateRequire } from 'node:module'; const require = topLevelCreateRequire(import.meta.url);";

/**
 * Node options of the deployed function: stack traces in the logs point at the TypeScript sources. The
 * bundle benchmark starts its fresh processes with the same options, so their start-up cost is measured.
 */
export const HANDLER_NODE_OPTIONS = "--enable-source-maps";

/** The esbuild settings that matter for size and start-up, in one place. */
export const HANDLER_BUNDLE = {
  /** Matches the function's runtime (Node.js 22). */
  target: "node22",
  format: "esm",
  minify: true,
  sourcemap: true,
  /** Prefer packages' ESM builds: smaller after tree-shaking, and no CJS interop shims. */
  mainFields: ["module", "main"],
  banner: CJS_REQUIRE_BANNER,
  /**
   * Only native modules stay out. The AWS SDK v3 clients are bundled rather than taken from the runtime:
   * the deployed code then runs the SDK version the tests ran, and only the commands the handler imports
   * are loaded at cold start instead of the runtime's full client packages.
   */
  external: ["sharp"],
} as const;

/** The sharp version the tests ran against: the installed one, which `npm ci` takes from the lock file. */
export function installedSharpVersion(): string {
  const manifest = JSON.parse(
    readFileSync(path.join(PROJECT_ROOT, "node_modules", "sharp", "package.json"), "utf8"),
  );
  return String(manifest.version);
}

/**
 * The shell command that puts sharp for the Lambda's platform (Linux, arm64, glibc) next to the bundle.
 * sharp's native code comes as prebuilt `@img/sharp-<platform>` packages chosen by npm's os/cpu/libc
 * fields, so asking npm for another platform is enough: no compiler, no Docker. `NodejsFunction`'s own
 * `nodeModules` is not used because it runs `npm ci` with the whole project's lock file against a
 * package.json listing sharp alone, and installs for the machine that synthesizes.
 *
 * @example
 * ```ts
 * sharpInstallCommand("/tmp/asset") // cd '/tmp/asset' && ... npm install ... --cpu=arm64 sharp@0.35.5
 * ```
 */
export function sharpInstallCommand(outputDir: string, version = installedSharpVersion()): string {
  const dir = `'${outputDir.replaceAll("'", "'\\''")}'`;
  return [
    `cd ${dir}`,
    // A package.json of its own, so npm installs here rather than into a project found further up.
    `echo '{"private":true}' > package.json`,
    `npm install --no-save --no-package-lock --no-audit --no-fund --omit=dev --os=linux --cpu=arm64 --libc=glibc sharp@${version}`,
    "rm package.json",
  ].join(" && ");
}

/**
 * The bundling options handed to `NodejsFunction`. With `shipSharp`, sharp (external to the bundle, being
 * native) is installed for linux-arm64 into the asset after esbuild ran: about 20 MB unzipped.
 *
 * @example
 * ```ts
 * new NodejsFunction(this, "Fn", { entry, bundling: lambdaBundlingOptions({ shipSharp: true }) });
 * ```
 */
export function lambdaBundlingOptions(options: { shipSharp?: boolean } = {}): BundlingOptions {
  return {
    ...(options.shipSharp && {
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (_inputDir: string, outputDir: string) => [sharpInstallCommand(outputDir)],
      },
    }),
    target: HANDLER_BUNDLE.target,
    format: HANDLER_BUNDLE.format === "esm" ? OutputFormat.ESM : OutputFormat.CJS,
    minify: HANDLER_BUNDLE.minify,
    sourceMap: HANDLER_BUNDLE.sourcemap,
    sourceMapMode: SourceMapMode.DEFAULT,
    mainFields: [...HANDLER_BUNDLE.mainFields],
    banner: HANDLER_BUNDLE.banner,
    externalModules: [...HANDLER_BUNDLE.external],
    forceDockerBundling: false,
  };
}

/**
 * The same bundle as esbuild API options, for the benchmark: `NodejsFunction` runs the esbuild CLI with
 * `--bundle --platform=node` and these flags, writing `index.mjs` for ESM output.
 *
 * @example
 * ```ts
 * await esbuild.build(esbuildBuildOptions("/tmp/out/index.mjs"));
 * ```
 */
export function esbuildBuildOptions(outfile: string): BuildOptions {
  return {
    entryPoints: [path.join(PROJECT_ROOT, HANDLER_ENTRY)],
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: "node",
    target: HANDLER_BUNDLE.target,
    format: HANDLER_BUNDLE.format,
    minify: HANDLER_BUNDLE.minify,
    sourcemap: HANDLER_BUNDLE.sourcemap,
    mainFields: [...HANDLER_BUNDLE.mainFields],
    banner: { js: HANDLER_BUNDLE.banner },
    external: [...HANDLER_BUNDLE.external],
    outfile,
    metafile: true,
    logLevel: "warning",
  };
}
