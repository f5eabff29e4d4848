/**
 * `catalog dev` as a child process for end-to-end tests: free ports, a temp
 * data dir, the banner awaited, and a stop that always reaps the process.
 * Also runs the built CLI and the Debian AWS CLI against it.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { CATALOG } from "../support/cli.js";
import { REPO_ROOT } from "../support/corpus.js";
import { TOOL_PATHS } from "../support/tools.js";

export { CATALOG };

const run = promisify(execFile);
/** The Debian package's CLI: another `aws` may come first on PATH. */
export const AWS_CLI = TOOL_PATHS.aws;

/** A port nothing listens on right now (bound to 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface StackPorts {
  s3: number;
  dynamodb: number;
  http: number;
}

/** A running `catalog dev` and everything printed so far (shown when a test fails). */
export class DevProcess {
  output = "";
  private exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  /** Starts `catalog dev` and resolves once its banner says it is ready. */
  static async start(
    dataDir: string,
    ports: StackPorts,
    timeoutMs = 30_000,
    args: readonly string[] = [],
  ): Promise<DevProcess> {
    const child = spawn(
      "node",
      [
        CATALOG,
        "dev",
        "--s3-port",
        String(ports.s3),
        "--dynamodb-port",
        String(ports.dynamodb),
        "--http-port",
        String(ports.http),
        "--data-dir",
        dataDir,
        "--log-level",
        "ERROR",
        ...args,
      ],
      { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    const dev = new DevProcess(child);
    const ready = await Promise.race([
      new Promise<boolean>((resolve) => {
        const check = () => {
          if (dev.output.includes("Ctrl-C stops.")) resolve(true);
        };
        child.stdout?.on("data", check);
        check();
      }),
      dev.exited.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs)),
    ]);
    if (!ready) {
      await dev.kill();
      throw new Error(`catalog dev did not start:\n${dev.output}`);
    }
    return dev;
  }

  /** Ctrl-C, as a person would; resolves with the exit code. */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill("SIGINT");
    const code = await Promise.race([
      this.exited,
      new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), timeoutMs)),
    ]);
    if (code === "timeout") {
      await this.kill();
      throw new Error(`catalog dev did not stop on SIGINT:\n${this.output}`);
    }
    return code;
  }

  /** The last resort for cleanup after a failure. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function capture(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run(file, args, {
      cwd: REPO_ROOT,
      timeout: 30_000,
      maxBuffer: 16 * 1024 * 1024,
      ...(env && { env }),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Runs the built `catalog` CLI pointed at the stack on these ports. */
export function catalogCli(ports: StackPorts, ...args: string[]): Promise<CommandResult> {
  return capture("node", [
    CATALOG,
    ...args,
    "--s3-endpoint",
    `http://127.0.0.1:${ports.s3}`,
    "--dynamodb-endpoint",
    `http://127.0.0.1:${ports.dynamodb}`,
    "--api",
    `http://127.0.0.1:${ports.http}`,
  ]);
}

/** Runs the Debian AWS CLI against one local endpoint with the embedded servers' dummy credentials. */
export function awsCli(endpoint: string, ...args: string[]): Promise<CommandResult> {
  return capture(
    AWS_CLI,
    ["--region", "us-east-1", "--endpoint-url", endpoint, "--output", "json", ...args],
    {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_PAGER: "",
    },
  );
}
