/**
 * Starts Azurite's Table service for a test file: a real Table endpoint on
 * loopback, in memory, no telemetry (Azurite otherwise phones home), on a free
 * port so parallel test files do not collide. `stop()` in `afterAll`; the child
 * also dies with the test process (exit hook + its stdin closing).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface Azurite {
  /** Dev-account connection string for this instance's port. */
  connectionString: string;
  port: number;
  stop(): Promise<void>;
}

/** Azurite's well-known development account (public, documented, not a secret). */
export const DEV_ACCOUNT = "devstoreaccount1";
export const DEV_ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const TABLE_MAIN = fileURLToPath(
  new URL("../../node_modules/azurite/dist/src/table/main.js", import.meta.url),
);

// Preloaded into Azurite: exit when our end of its stdin closes, so a test
// process killed with SIGKILL (no exit hooks run) does not leave Azurite behind.
const DIE_WITH_PARENT =
  "data:text/javascript," +
  encodeURIComponent(
    'process.stdin.on("end",()=>process.exit(0));process.stdin.on("error",()=>process.exit(0));process.stdin.resume();',
  );

const START_TIMEOUT_MS = 30_000;

export function devConnectionString(port: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_ACCOUNT_KEY};` +
    `TableEndpoint=http://127.0.0.1:${port}/${DEV_ACCOUNT};`
  );
}

/** Starts Azurite's Table service; retries on a port taken between choosing and binding it. */
export async function startAzurite(): Promise<Azurite> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(await freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(port: number): Promise<Azurite> {
  // --inMemoryPersistence refuses --location; the cwd is where Azurite would put anything else.
  const workspace = await mkdtemp(path.join(tmpdir(), "azurite-"));
  const child = spawn(
    process.execPath,
    [
      "--import",
      DIE_WITH_PARENT,
      TABLE_MAIN,
      "--tableHost",
      "127.0.0.1",
      "--tablePort",
      String(port),
      "--inMemoryPersistence",
      "--disableTelemetry",
      "--silent",
      "--skipApiVersionCheck",
    ],
    { cwd: workspace, stdio: ["pipe", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const stop = async () => {
    process.removeListener("exit", killOnExit);
    await terminate(child);
    await rm(workspace, { recursive: true, force: true });
  };

  try {
    await waitForPort(port, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { connectionString: devConnectionString(port), port, stop };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Azurite exited before listening on ${port}:\n${output()}`);
    }
    if (await answers(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Azurite did not listen on ${port} within ${START_TIMEOUT_MS} ms:\n${output()}`);
}

/**
 * Whether Azurite itself answers on the port. Not just any listener: between `freePort` closing the
 * port and Azurite binding it, another test's server can take it; a bare connect would then report
 * Azurite ready, Azurite would exit with EADDRINUSE, and the tests would meet ECONNREFUSED once that
 * other server closed. Azurite names itself in every answer's Server header.
 */
async function answers(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.headers.get("server")?.startsWith("Azurite-Table/") === true;
  } catch {
    return false;
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stdin?.end();
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
  await exited;
  clearTimeout(timer);
}
