/**
 * The self-check's place in the `secretWatchdog` trigger and in `/api/health`, through the official
 * seams: a self-check that cannot finish is logged and never fails the pass; a warning-level
 * failing check makes health `attention` (200), not `degraded`.
 */
import azureFunctions, { type Timer } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { health } from "../../functions/health.js";
import { secretWatchdog } from "../../functions/secret-watchdog.js";
import type { HealthReport } from "../../lib/health.js";
import { healthProblems } from "../../lib/health/format.js";
import { SELF_CHECK_KEY, type SelfCheckRecord } from "../../lib/health/self-check-record.js";
import { setRuntimeDeps } from "../../lib/runtime.js";
import type { StateStore } from "../../lib/state/store.js";
import { startWorld, type World } from "../helpers/watchdog-world.js";

const { HttpRequest, InvocationContext } = azureFunctions;

let w: World;
let refuseSelfCheckWrites = true;
beforeAll(async () => {
  w = await startWorld({
    host: false,
    // The store refuses the self-check's record (and only it) while the flag is up.
    wrapState: (store: StateStore): StateStore => ({
      description: store.description,
      get: (c, k) => store.get(c, k),
      delete: (c, k, o) => store.delete(c, k, o),
      list: (c) => store.list(c),
      put: (c, k, v, o) =>
        refuseSelfCheckWrites && c === "runs" && k === SELF_CHECK_KEY
          ? Promise.reject(new Error("state: the table refused the write (503)"))
          : store.put(c, k, v, o),
    }),
  });
  setRuntimeDeps(w.deps);
});
afterAll(async () => {
  await w?.close();
});

async function probe(): Promise<{ status: number; report: HealthReport }> {
  const res = await health(
    new HttpRequest({ method: "GET", url: "http://localhost/api/health" }),
    new InvocationContext({ functionName: "health" }),
  );
  return { status: res.status!, report: res.jsonBody as HealthReport };
}

describe("secretWatchdog's self-check", () => {
  it("cannot record its result → the pass still succeeds, and the failure is logged as a warning", async () => {
    const lines: string[] = [];
    const context = new InvocationContext({
      functionName: "secretWatchdog",
      logHandler: (level, ...args) => void lines.push(`${level} ${args.join(" ")}`),
    });
    await secretWatchdog({ isPastDue: false } as Timer, context);
    expect(lines).toContain("warning self-check: state: the table refused the write (503)");
    expect(lines.some((l) => l.startsWith("information secretWatchdog: "))).toBe(true);
    // Nothing recorded, so health shows no self-check (and is ok), and the next pass tries again.
    const { report } = await probe();
    expect(report.selfCheck).toBeUndefined();
    expect(report.status).toBe("ok");
  });

  it("a warning-level failing check → health attention (200), listed with its fix among the problems", async () => {
    refuseSelfCheckWrites = false;
    const at = w.clock.now().toISOString();
    const record: SelfCheckRecord = {
      v: 1,
      startedAt: at,
      checkedAt: at,
      deployment: "build 0123456789ab settings 01234567",
      reason: "daily",
      identity: { objectId: w.sim.watchdog.servicePrincipalId, appId: w.sim.watchdog.appId },
      checks: [{ id: "app.redirect-uri", status: "fail", summary: "The Web platform lacks the callback." }],
      failing: [
        {
          id: "app.redirect-uri",
          severity: "warning",
          summary: "Self-check app.redirect-uri (Redirect URI): The Web platform lacks the callback.",
          fix: "Add the callback under Web.",
        },
      ],
      complete: true,
    };
    await (await w.deps.store()).put("runs", SELF_CHECK_KEY, record);
    const { status, report } = await probe();
    expect(status).toBe(200);
    expect(report.status).toBe("attention");
    expect(report.selfCheck?.failing.map((f) => f.id)).toEqual(["app.redirect-uri"]);
    expect(healthProblems(report)).toEqual([
      {
        code: "setup.broken:app.redirect-uri",
        message: "Self-check app.redirect-uri (Redirect URI): The Web platform lacks the callback.",
        fix: "Add the callback under Web.",
      },
    ]);
  });
});
