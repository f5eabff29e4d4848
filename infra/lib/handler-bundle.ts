import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AssetHashType, DockerImage } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { type BuildOptions, buildSync, type Metafile } from "esbuild";

/**
 * How the Lambda handler is bundled: one definition that the CDK stack
 * (through {@link handlerCode}) and the bundle benchmark (through
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
 * `NODE_OPTIONS` of the function when the `sourceMaps` context turns source-mapped stack traces on: Node
 * then maps every stack trace through the `.map` files deployed beside the bundle. Off by default, as AWS
 * advises for Lambda: Node reads and parses the map of every module it loads, which measured +25 to +40 ms
 * of init on the split bundle (bench/RESULTS.md, "Bundle and cold start"), and every error's stack trace
 * costs a lookup. The maps are built and deployed either way, so turning it on is a configuration change.
 */
export const SOURCE_MAPS_NODE_OPTIONS = "--enable-source-maps";

/**
 * The esbuild settings that matter for size and start-up, in one place.
 *
 * The bundle is code-split: an entry `index.mjs` plus `chunks/*.mjs`. Each extractor is imported lazily
 * (its descriptor's `load()`), and with splitting its libraries land in chunks that are only read and
 * compiled when a file of that format arrives. One file (what `NodejsFunction` produces, since it bundles
 * to a single `--outfile`) made V8 compile all 1.1 MB at every cold start: measured 350-390 ms import +
 * first call against 220-230 ms split, on the same machine under the same load (bench/RESULTS.md).
 */
export const HANDLER_BUNDLE = {
  /** Matches the function's runtime (Node.js 22). */
  target: "node22",
  format: "esm",
  minify: true,
  /** Built and deployed always, so source-mapped stack traces are one setting away (`SOURCE_MAPS_NODE_OPTIONS`). */
  sourcemap: true,
  /**
   * Stack traces need only the mappings, not the sources: without them the maps are a third of the size
   * (4.6 MB to 1.5 MB) and quicker to parse when `--enable-source-maps` is on.
   */
  sourcesContent: false,
  /** Prefer packages' ESM builds: smaller after tree-shaking, and no CJS interop shims. */
  mainFields: ["module", "main"],
  banner: CJS_REQUIRE_BANNER,
  /**
   * Only native modules stay out. The AWS SDK v3 clients are bundled rather than taken from the runtime:
   * the deployed code then runs the SDK version the tests ran, and only the commands the handler imports
   * are loaded at cold start instead of the runtime's full client packages.
   */
  external: ["sharp"],
  /** Dynamic imports become chunks, loaded when first awaited. */
  splitting: true,
  /** The entry file's name without extension: the function's handler is `index.handler`. */
  entryName: "index",
  /**
   * `.mjs` so Node loads entry and chunks as ES modules without a package.json beside them (the asset
   * has none; the sharp install removes the one it needs).
   */
  outExtension: ".mjs",
  chunkNames: "chunks/[name]-[hash]",
} as const;

/** The entry file inside the bundle directory. */
export const HANDLER_FILE = `${HANDLER_BUNDLE.entryName}${HANDLER_BUNDLE.outExtension}`;

/** The function's `handler` setting: the entry file's name and the exported function. */
export const LAMBDA_HANDLER = `${HANDLER_BUNDLE.entryName}.${HANDLER_EXPORT}`;

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
 * fields, so asking npm for another platform is enough: no compiler, no Docker. (`NodejsFunction`'s
 * `nodeModules`, when it was used, ran `npm ci` with the whole project's lock file against a package.json
 * listing sharp alone, and installed for the machine that synthesizes.)
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
 * The esbuild API options of the deployed bundle, writing `index.mjs`, `chunks/*.mjs` and their source
 * maps into `outdir`. The stack ({@link bundleHandler}, through {@link handlerCode}) and the bundle
 * benchmark both build with these, so the benchmark measures the deployed artefact.
 *
 * @example
 * ```ts
 * const { metafile } = await esbuild.build(esbuildBuildOptions("/tmp/bundle"));
 * ```
 */
export function esbuildBuildOptions(
  outdir: string,
  entry = path.join(PROJECT_ROOT, HANDLER_ENTRY),
): BuildOptions & { metafile: true } {
  return {
    entryPoints: { [HANDLER_BUNDLE.entryName]: entry },
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: "node",
    target: HANDLER_BUNDLE.target,
    format: HANDLER_BUNDLE.format,
    minify: HANDLER_BUNDLE.minify,
    sourcemap: HANDLER_BUNDLE.sourcemap,
    sourcesContent: HANDLER_BUNDLE.sourcesContent,
    mainFields: [...HANDLER_BUNDLE.mainFields],
    banner: { js: HANDLER_BUNDLE.banner },
    external: [...HANDLER_BUNDLE.external],
    splitting: HANDLER_BUNDLE.splitting,
    outExtension: { ".js": HANDLER_BUNDLE.outExtension },
    chunkNames: HANDLER_BUNDLE.chunkNames,
    outdir,
    metafile: true,
    logLevel: "warning",
  };
}

/** What goes into the function's code directory. */
export interface HandlerBundleOptions {
  /** Install sharp for linux-arm64 beside the bundle (thumbnails on). @default false */
  readonly shipSharp?: boolean;
  /** The handler module (absolute path). @default - {@link HANDLER_ENTRY} of this project */
  readonly entry?: string;
  /** Runs a shell command (the sharp install); tests replace it. @default - execSync, output to stderr */
  readonly run?: (command: string) => void;
}

// stdout stays clean: a CDK app's stdout is not the place for npm's progress.
const runOnStderr = (command: string): void => {
  execSync(command, { stdio: ["ignore", 2, 2] });
};

/**
 * Builds the function's code directory: the split bundle, and with `shipSharp` sharp for linux-arm64
 * (external to the bundle, being native; about 20 MB unzipped). Synchronous because CDK's local bundling
 * is. Throws when esbuild or npm fails.
 *
 * @example
 * ```ts
 * bundleHandler("/tmp/asset", { shipSharp: true }); // /tmp/asset/index.mjs, chunks/, node_modules/sharp
 * ```
 */
export function bundleHandler(outdir: string, options: HandlerBundleOptions = {}): Metafile {
  const { metafile } = buildSync(esbuildBuildOptions(outdir, options.entry));
  if (options.shipSharp) (options.run ?? runOnStderr)(sharpInstallCommand(outdir));
  return metafile;
}

/**
 * The function's code: an asset built locally by {@link bundleHandler} while the app synthesizes.
 *
 * Not `NodejsFunction`, whose esbuild run writes one `--outfile` and so cannot split chunks (see
 * {@link HANDLER_BUNDLE}). The asset is hashed on the output, so the project folder is never
 * fingerprinted; a stack left out of `aws:cdk:bundling-stacks` skips the build altogether. CDK falls back
 * to Docker when local bundling declines; this bundling never declines (it builds or throws), and the
 * image named for that fallback does not exist, so Docker is never a silent second path.
 *
 * @example
 * ```ts
 * new lambda.Function(this, "Fn", { code: handlerCode({ shipSharp: true }), handler: LAMBDA_HANDLER, ... });
 * ```
 */
export function handlerCode(options: HandlerBundleOptions = {}): lambda.Code {
  const entry = options.entry ?? path.join(PROJECT_ROOT, HANDLER_ENTRY);
  return lambda.Code.fromAsset(path.dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry(DOCKER_BUNDLING_UNSUPPORTED),
      command: ["false"],
      local: {
        tryBundle(outputDir: string): boolean {
          bundleHandler(outputDir, { ...options, entry });
          return true;
        },
      },
    },
  });
}

/** The image CDK would pull if local bundling declined: a name that says why that must not happen. */
export const DOCKER_BUNDLING_UNSUPPORTED = "s3-metadata-catalog/docker-bundling-is-not-supported";
