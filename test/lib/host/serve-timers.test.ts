// `watchdog serve` runs the timers as Azure Functions does, in UTC, whatever the machine's time
// zone (lib/utc-schedule.ts says why croner gets an offset rather than a time zone).
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../lib/config.js";
import { startTimers } from "../../../lib/host/serve-timers.js";
import type { TriggerDescriptor } from "../../../lib/host/trigger.js";
import { inTimeZone } from "../../helpers/time-zone.js";
import { capturingLogger } from "../../helpers/watchdog-world.js";

describe("startTimers", () => {
  it("schedules each timer in UTC, also on a machine in another time zone", () => {
    // Local time in New York is five hours behind UTC in winter.
    const config = loadConfig({
      NYLAS_API_KEY: "nyk_test_key_123",
      AZURE_TENANT_ID: "11111111-2222-3333-4444-555555555555",
      WATCHDOG_SCHEDULE: "0 0 12 * * *",
    });
    const logger = capturingLogger();
    const triggers: TriggerDescriptor[] = [
      {
        kind: "timer",
        name: "secretWatchdog",
        scheduleSetting: "WATCHDOG_SCHEDULE",
        handler: async () => {},
      },
    ];
    const timers = inTimeZone("America/New_York", () => startTimers(triggers, config, logger));
    timers.stop();
    const line = logger.lines.find((l) => l.includes("secretWatchdog on"));
    expect(line).toMatch(/next run \d{4}-\d{2}-\d{2}T12:00:00\.000Z$/);
  });
});
