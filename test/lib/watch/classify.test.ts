import { describe, expect, it } from "vitest";
import { classify, daysLeft, isExpired, worst } from "../../../lib/watch/classify.js";
import { DAY_MS, HOUR_MS } from "../../../lib/clock.js";

const now = new Date("2026-11-23T12:00:00Z");
const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
const t = { alertBeforeDays: 14, rotateBeforeDays: 60 };

describe("days left", () => {
  it("rounds down to whole days", () => {
    expect(daysLeft(at(14 * DAY_MS - HOUR_MS), now)).toBe(13);
    expect(daysLeft(at(14 * DAY_MS), now)).toBe(14);
    expect(daysLeft(at(5 * HOUR_MS), now)).toBe(0);
    expect(daysLeft(at(-HOUR_MS), now)).toBe(-1);
    expect(daysLeft(null, now)).toBeNull();
  });

  it("treats an endDateTime at or before now as expired", () => {
    expect(isExpired(at(0), now)).toBe(true);
    expect(isExpired(at(1), now)).toBe(false);
    expect(isExpired(null, now)).toBe(false);
  });
});

describe("classify", () => {
  it("puts each credential in exactly one band", () => {
    expect(classify(at(-1), now, t)).toBe("expired");
    expect(classify(at(5 * HOUR_MS), now, t)).toBe("critical");
    expect(classify(at(14 * DAY_MS + HOUR_MS), now, t)).toBe("critical");
    expect(classify(at(15 * DAY_MS), now, t)).toBe("rotation-due");
    expect(classify(at(60 * DAY_MS + HOUR_MS), now, t)).toBe("rotation-due");
    expect(classify(at(61 * DAY_MS), now, t)).toBe("ok");
    expect(classify(null, now, t)).toBe("ok");
  });

  it("orders statuses by urgency", () => {
    expect(worst("ok", "critical")).toBe("critical");
    expect(worst("expired", "critical")).toBe("expired");
    expect(worst("rotation-due", "ok")).toBe("rotation-due");
  });
});
