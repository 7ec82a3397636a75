import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../lib/clock.js";
import { daysLeft } from "../../../lib/watch/classify.js";
import type { CredentialReport } from "../../../lib/watch/scan.js";
import { Soonest } from "../../../lib/watch/soonest.js";
import { seededRandom } from "../../helpers/differential.js";

const now = new Date("2026-12-01T12:00:00.000Z");

function report(keyId: string, end: Date | null): CredentialReport {
  const endDateTime = end === null ? null : end.toISOString();
  return {
    appId: "app",
    appObjectId: "object",
    appDisplayName: null,
    source: "watched",
    type: "password",
    keyId,
    displayName: null,
    hint: null,
    startDateTime: null,
    endDateTime,
    daysLeft: daysLeft(endDateTime, now),
    status: "ok",
  };
}

describe("Soonest", () => {
  it("keeps what sorting every report by its end would keep, first come first on ties", () => {
    const random = seededRandom(1201);
    for (let round = 0; round < 200; round++) {
      const k = 1 + Math.floor(random() * 8);
      const reports: CredentialReport[] = [];
      for (let i = 0; i < 60; i++) {
        // Few days and whole hours: many reports share a day (the early exit) or an exact end (a tie).
        const end =
          random() < 0.05
            ? null
            : new Date(
                now.getTime() +
                  Math.floor(random() * 6 - 2) * DAY_MS +
                  Math.floor(random() * 3) * 8 * HOUR_MS,
              );
        reports.push(report(`key-${i}`, end));
      }
      const soonest = new Soonest<CredentialReport>(k);
      for (const r of reports) soonest.offer(r);
      const key = (r: CredentialReport) => (r.endDateTime === null ? Infinity : Date.parse(r.endDateTime));
      const expected = [...reports].sort((a, b) => key(a) - key(b) || 0).slice(0, k);
      expect(soonest.items.map((r) => r.keyId)).toEqual(expected.map((r) => r.keyId));
    }
  });
});
