/**
 * The self-check → incident decision: a failing check raises `setup.broken:<check>` (critical when
 * rotation cannot work), a warning only refreshes an open one, a pass resolves it saying what is
 * true now, and a check that could not run changes nothing.
 */
import { describe, expect, it } from "vitest";
import type { CheckId } from "../../../lib/doctor/check.js";
import type { UnattendedResult, UnattendedStatus } from "../../../lib/doctor/run-unattended.js";
import { planSelfCheck, type FailingCheck } from "../../../lib/health/self-check-signals.js";

const CTX = { deployment: "build abc settings def", identity: { objectId: "oid-1", appId: "app-1" } };

function result(id: CheckId, status: UnattendedStatus, summary = `${id} ${status}`): UnattendedResult {
  return {
    id,
    title: `title of ${id}`,
    status,
    summary,
    ...(status === "fail" || status === "warn"
      ? { fix: "Step one.\nStep two.", source: 'Nylas docs: "A page" (https://example.com/page)' }
      : {}),
  };
}

const none = new Map<CheckId, Omit<FailingCheck, "id">>();
const openOn = (id: CheckId, severity: "critical" | "warning" = "critical") =>
  new Map<CheckId, Omit<FailingCheck, "id">>([
    [id, { severity, summary: "earlier words", fix: "earlier fix" }],
  ]);

describe("planSelfCheck", () => {
  it("a failing check → setup.broken:<check>, with the fix, its source, the deployment and the identity", () => {
    const plan = planSelfCheck([result("app.permission", "fail", "cannot rotate")], none, CTX);
    expect(plan.resolve).toEqual([]);
    expect(plan.raise).toEqual([
      {
        key: "setup.broken:app.permission",
        kind: "setup.broken",
        severity: "critical",
        summary: "Self-check app.permission (title of app.permission): cannot rotate",
        details: {
          check: "app.permission",
          status: "fail",
          deployment: "build abc settings def",
          identity_object_id: "oid-1",
          identity_app_id: "app-1",
        },
        remediation: [
          "Step one.",
          "Step two.",
          'Where this advice comes from: Nylas docs: "A page" (https://example.com/page).',
          expect.stringContaining("resolves when the check passes") as unknown,
        ],
        links: [],
      },
    ]);
    expect(plan.failing).toEqual([
      {
        id: "app.permission",
        severity: "critical",
        summary: plan.raise[0]!.summary,
        fix: plan.raise[0]!.remediation.join("\n"),
      },
    ]);
  });

  it("critical only where rotation cannot work without it; other failures are warnings", () => {
    const ids: CheckId[] = ["nylas.region", "connector.present", "app.found", "app.permission"];
    const others: CheckId[] = [
      "app.redirect-uri",
      "scopes.required",
      "webhook.subscription",
      "settings.sanity",
    ];
    const plan = planSelfCheck(
      [...ids, ...others].map((id) => result(id, "fail")),
      none,
      CTX,
    );
    const severities = Object.fromEntries(plan.raise.map((s) => [s.details.check, s.severity]));
    for (const id of ids) expect(severities[id]).toBe("critical");
    for (const id of others) expect(severities[id]).toBe("warning");
  });

  it("a warning opens nothing, but refreshes an open incident with today's words (as a warning)", () => {
    expect(planSelfCheck([result("webhook.subscription", "warn")], none, CTX)).toEqual({
      raise: [],
      resolve: [],
      failing: [],
    });
    const plan = planSelfCheck([result("app.permission", "warn", "restart")], openOn("app.permission"), CTX);
    expect(plan.raise.map((s) => [s.key, s.severity, s.summary])).toEqual([
      [
        "setup.broken:app.permission",
        "warning",
        "Self-check app.permission (title of app.permission): restart",
      ],
    ]);
    expect(plan.resolve).toEqual([]);
  });

  it("a pass resolves an open incident with a note saying what is true now; with none open, nothing", () => {
    const passing = result("app.permission", "pass", "The watchdog can rotate the app.");
    expect(planSelfCheck([passing], openOn("app.permission"), CTX)).toEqual({
      raise: [],
      resolve: [
        {
          key: "setup.broken:app.permission",
          note: "The self-check passes app.permission again: The watchdog can rotate the app.",
        },
      ],
      failing: [],
    });
    expect(planSelfCheck([passing], none, CTX)).toEqual({ raise: [], resolve: [], failing: [] });
  });

  it("a check that could not run or was skipped neither raises nor resolves; an open incident stays failing", () => {
    for (const status of ["unknown", "skip"] as const) {
      expect(planSelfCheck([result("app.found", status)], none, CTX)).toEqual({
        raise: [],
        resolve: [],
        failing: [],
      });
      expect(planSelfCheck([result("app.found", status)], openOn("app.found"), CTX)).toEqual({
        raise: [],
        resolve: [],
        failing: [{ id: "app.found", severity: "critical", summary: "earlier words", fix: "earlier fix" }],
      });
    }
  });

  it("an open incident of a check the self-check no longer runs is resolved, saying so", () => {
    const plan = planSelfCheck([result("app.found", "pass")], openOn("grants.scopes", "warning"), CTX);
    expect(plan.resolve).toEqual([
      {
        key: "setup.broken:grants.scopes",
        note: expect.stringContaining("no longer runs grants.scopes") as unknown,
      },
    ]);
    expect(plan.failing).toEqual([]);
  });
});
