/**
 * A trigger, declared once beside its handler in functions/*.ts: the Functions
 * host gets its registration from it (registerTrigger), and `watchdog serve`
 * reads the same declaration for its routes, keys and schedules. lib/ never
 * imports functions/: the entry point (bin/triggers.ts) hands the table in.
 */
import type { HttpMethod, HttpRequest, HttpResponseInit, InvocationContext, Timer } from "@azure/functions";
import type { Config } from "../config.js";

/**
 * The app settings a timer's NCRONTAB schedule may name, and where loadConfig
 * keeps each: Azure resolves `%NAME%` from the settings, serve from the config.
 */
export const SCHEDULE_SETTINGS = {
  WATCHDOG_SCHEDULE: (config: Config) => config.schedules.watchdog,
  GRANT_SWEEP_SCHEDULE: (config: Config) => config.schedules.grantSweep,
} as const satisfies Record<string, (config: Config) => string>;

export type ScheduleSetting = keyof typeof SCHEDULE_SETTINGS;

export interface HttpTrigger {
  kind: "http";
  name: string;
  /** Below the host's route prefix: "health" is served at `/api/health`. */
  route: string;
  methods: readonly HttpMethod[];
  /** "function": a function key (x-functions-key or ?code=) is required. */
  authLevel: "anonymous" | "function";
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;
}

export interface TimerTrigger {
  kind: "timer";
  name: string;
  /** The app setting that holds the schedule. */
  scheduleSetting: ScheduleSetting;
  handler: (timer: Timer, context: InvocationContext) => Promise<void>;
}

export type TriggerDescriptor = HttpTrigger | TimerTrigger;

/** The route prefix of host.json's default (`extensions.http.routePrefix`, not overridden). */
export const ROUTE_PREFIX = "/api";

/** A shorter function key for `/api/health` could be guessed; an empty one would match an empty `?code=`. */
export const MIN_HEALTH_KEY_LENGTH = 16;
