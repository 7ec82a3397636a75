/**
 * URL settings. Hand-written refinement rather than z.url(): zod files one "invalid URL" for three
 * different mistakes, while each here gets its own problem and a fix built from the parsed address
 * ("Use the https:// address (https://host/path)"), and a secret-bearing URL is never quoted.
 */
import * as z from "zod/mini";
import { keepRaw, setting } from "./fields.js";

export interface UrlOptions {
  /** A bare origin (API roots): a path or query is a problem, and the value is normalised to the origin. */
  origin?: boolean;
  /** http://localhost too: `watchdog serve` and a re-auth callback on a developer's machine. */
  loopbackHttp?: boolean;
  /** The URL itself is a credential (Slack, Teams and alert webhooks): problems never quote it. */
  secret?: boolean;
}

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];

interface UrlProblem {
  problem: string;
  fix: string;
}

function urlProblem(value: string, options: UrlOptions): UrlProblem | undefined {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    const shown = options.secret ? "the value" : `"${value}"`;
    return { problem: `${shown} is not a URL.`, fix: "Set it to a full https:// URL." };
  }
  const loopback = LOOPBACK.includes(parsed.hostname);
  if (parsed.protocol !== "https:" && !(options.loopbackHttp && loopback && parsed.protocol === "http:")) {
    const path = parsed.pathname === "/" ? "" : parsed.pathname;
    return {
      problem: `${options.secret ? "the URL" : `"${value}"`} uses ${parsed.protocol.replace(":", "")}; only https is allowed (credentials travel on it).`,
      fix: `Use the https:// address${options.secret ? "" : ` (https://${parsed.host}${path})`}.`,
    };
  }
  const bare =
    parsed.search === "" && parsed.hash === "" && (parsed.pathname === "/" || parsed.pathname === "");
  if (options.origin && !bare) {
    return {
      problem: `"${value}" has a path or query.`,
      fix: `Give the root only, e.g. https://${parsed.host}.`,
    };
  }
  return undefined;
}

function urlSchema(options: UrlOptions) {
  const checked = z.string().check(
    z.superRefine((value, ctx) => {
      const found = urlProblem(value, options);
      if (found !== undefined)
        ctx.addIssue({ code: "custom", message: found.problem, params: { fix: found.fix } });
    }),
  );
  return z.pipe(
    checked,
    z.transform((value: string) => {
      if (!options.origin) return value;
      const parsed = new URL(value);
      return `${parsed.protocol}//${parsed.host}`;
    }),
  );
}

/** An https URL with a default (the API roots): unset reads as `fallback`. */
export function urlOr(fallback: string, options: UrlOptions = {}) {
  return setting(() => urlSchema(options), { fallback: () => fallback });
}

/** An optional https URL: unset reads as undefined. */
export function optionalUrl(options: UrlOptions = {}) {
  return setting(() => urlSchema(options), { fallback: keepRaw });
}
