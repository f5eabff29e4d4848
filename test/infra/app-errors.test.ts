/**
 * The app as `npx cdk synth -c key=value` runs it: context arrives in CDK_CONTEXT_JSON (as strings from
 * the command line), and a wrong value must end the run with one line naming the problem, not a stack
 * trace, and with no template written.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../infra/lib/handler-bundle.js";

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

interface AppRun {
  status: number | null;
  lines: string[];
  outdir: string;
}

/**
 * Runs infra/app.ts the way the CDK CLI does, without bundling unless `bundle` is set; resolves to its exit
 * code and output.
 */
function runApp(context: Record<string, unknown>, { bundle = false } = {}): Promise<AppRun> {
  const outdir = mkdtempSync(path.join(tmpdir(), "catalog-app-"));
  outdirs.push(outdir);
  const bundling = bundle ? {} : { "aws:cdk:bundling-stacks": [] };
  const env = {
    ...process.env,
    CDK_OUTDIR: outdir,
    CDK_CONTEXT_JSON: JSON.stringify({ ...bundling, ...context }),
  };
  const tsx = path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx");
  return new Promise((resolve) => {
    execFile(tsx, ["infra/app.ts"], { cwd: PROJECT_ROOT, env }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === "number" ? error.code : null) : 0;
      resolve({ status, lines: outputLines(`${stdout}${stderr}`), outdir });
    });
  });
}

/** The app's own output lines: the AWS SDK's notice about Node.js versions is not part of it. */
function outputLines(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.trim() !== "")
    .filter(
      (line) =>
        !/NodeVersionSupportWarning|node >=22|node v\d|a\.co\/|trace-warnings|^To continue|^and security|^versions published/.test(
          line,
        ),
    );
}

describe.concurrent("a wrong context value ends the synth with one line", () => {
  it.each([
    [{ memoryMiB: "lots" }, 'context "memoryMiB": "lots" is not an integer from 128 to 10240'],
    [{ logRetentionDays: "31" }, 'context "logRetentionDays": 31 is not a retention CloudWatch Logs accepts'],
    [{ policy: '{"tagEverything":true}' }, "invalid policy: policy.tagEverything is not a known field"],
    [
      { existingBucketName: "photos", encryption: "kms" },
      "existingBucketName cannot be combined with encryption",
    ],
    // CDK's own validation, reached after the stack has begun to build: still one line, and no half-built
    // stack is synthesized on exit.
    [{ stackName: "my_stack" }, "Stack name must match the regular expression"],
  ])(
    "%j",
    async (context, message) => {
      const { status, lines, outdir } = await runApp(context);
      expect(status).toBe(1);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(message);
      expect(existsSync(path.join(outdir, "manifest.json"))).toBe(false);
    },
    60_000,
  );

  // As `npx cdk synth -c suffixes='*.jpg'` runs it: bundling on, and the one line comes before the handler
  // is bundled (CDK prints "Bundling asset ..." when it starts, and the bundle lands in the outdir).
  it("a wrong setting is reported before the handler is bundled", async () => {
    const { status, lines, outdir } = await runApp({ suffixes: "*.jpg" }, { bundle: true });
    expect(lines).toEqual([
      'suffix "*.jpg" cannot contain "*": S3 filters match key text literally (write ".jpg", not "*.jpg")',
    ]);
    expect(status).toBe(1);
    expect(readdirSync(outdir)).toEqual([]);
  }, 60_000);

  it("right values synthesize a template", async () => {
    const { status, lines, outdir } = await runApp({ mode: "sqs", memoryMiB: "512", versioned: "false" });
    expect(lines.filter((line) => /error|Error/.test(line))).toEqual([]);
    expect(status).toBe(0);
    expect(existsSync(path.join(outdir, "S3MetadataCatalog.template.json"))).toBe(true);
  }, 120_000);
});
