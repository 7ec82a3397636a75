/**
 * The slice of OData that Graph's directory endpoints accept and the product
 * uses: `$select`, `$top`, `$filter` with `eq` / `in` / `startswith` joined by
 * `and`, and opaque `$skiptoken` paging. Anything else fails the way Graph
 * fails (400 with its error code), so unsupported queries surface in tests.
 */
import { base64url } from "./ids.js";

/** A Graph failure to report: HTTP status, error code and message. */
export class ODataError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One `$filter` clause. `values` has one element except for `in`. */
export interface FilterClause {
  property: string;
  op: "eq" | "in" | "startswith";
  values: string[];
}

const QUOTED = "'((?:[^']|'')*)'";
const EQ_RE = new RegExp(`^(\\w+)\\s+eq\\s+${QUOTED}$`, "i");
const IN_RE = /^(\w+)\s+in\s+\((.*)\)$/i;
const STARTSWITH_RE = new RegExp(`^startswith\\(\\s*(\\w+)\\s*,\\s*${QUOTED}\\s*\\)$`, "i");
const MAX_IN_VALUES = 15;

const unquote = (s: string): string => s.replace(/''/g, "'");

/** Splits on ` and ` outside string literals. */
function splitAnd(filter: string): string[] {
  const parts: string[] = [];
  let current = "";
  let inString = false;
  for (let i = 0; i < filter.length; i++) {
    const ch = filter[i] ?? "";
    if (ch === "'") inString = !inString;
    if (!inString && /\s/.test(ch) && /^\s+and\s+/i.test(filter.slice(i))) {
      const m = /^\s+and\s+/i.exec(filter.slice(i));
      parts.push(current.trim());
      current = "";
      i += (m?.[0].length ?? 1) - 1;
      continue;
    }
    current += ch;
  }
  parts.push(current.trim());
  return parts;
}

/**
 * Parses a `$filter` into clauses, each checked against `allowed` (property →
 * operators it supports). Throws ODataError as Graph answers.
 */
export function parseFilter(
  filter: string,
  resource: string,
  allowed: Readonly<Record<string, readonly FilterClause["op"][]>>,
): FilterClause[] {
  const clauses: FilterClause[] = [];
  for (const raw of splitAnd(filter.trim())) {
    let clause: FilterClause | undefined;
    let m = EQ_RE.exec(raw);
    if (m) clause = { property: m[1] ?? "", op: "eq", values: [unquote(m[2] ?? "")] };
    if (!clause && (m = STARTSWITH_RE.exec(raw))) {
      clause = { property: m[1] ?? "", op: "startswith", values: [unquote(m[2] ?? "")] };
    }
    if (!clause && (m = IN_RE.exec(raw))) {
      const list = m[2] ?? "";
      const values = [...list.matchAll(new RegExp(QUOTED, "g"))].map((v) => unquote(v[1] ?? ""));
      if (values.length === 0 || list.replace(new RegExp(QUOTED, "g"), "").replace(/[\s,]/g, "") !== "") {
        throw new ODataError(400, "BadRequest", `Invalid filter clause: Syntax error in '${raw}'.`);
      }
      if (values.length > MAX_IN_VALUES) {
        throw new ODataError(
          400,
          "Request_UnsupportedQuery",
          `Too many child clauses specified in search filter expression containing 'OR' operators: ${values.length}. Max allowed: ${MAX_IN_VALUES}.`,
        );
      }
      clause = { property: m[1] ?? "", op: "in", values };
    }
    if (!clause) throw new ODataError(400, "BadRequest", `Invalid filter clause: Syntax error in '${raw}'.`);
    const canonical = Object.keys(allowed).find((p) => p.toLowerCase() === clause.property.toLowerCase());
    if (canonical === undefined || !(allowed[canonical] ?? []).includes(clause.op)) {
      throw new ODataError(
        400,
        "Request_UnsupportedQuery",
        `Unsupported or invalid query filter clause specified for property '${clause.property}' of resource '${resource}'.`,
      );
    }
    clauses.push({ ...clause, property: canonical });
  }
  return clauses;
}

/** Whether a string property value satisfies a clause (GUIDs and names compare case-insensitively). */
export function matchesClause(value: string | null | undefined, clause: FilterClause): boolean {
  if (value === null || value === undefined) return false;
  const v = value.toLowerCase();
  if (clause.op === "startswith") return v.startsWith((clause.values[0] ?? "").toLowerCase());
  return clause.values.some((c) => c.toLowerCase() === v);
}

/**
 * Parses `$select` against the resource's properties (case-insensitively),
 * returning canonical names in the order given, `id` always included.
 */
export function parseSelect(
  select: string | null,
  properties: readonly string[],
  type: string,
): string[] | undefined {
  if (select === null || select.trim() === "") return undefined;
  const out: string[] = [];
  for (const raw of select.split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    const canonical = properties.find((p) => p.toLowerCase() === name.toLowerCase());
    if (canonical === undefined) {
      throw new ODataError(400, "BadRequest", `Could not find a property named '${name}' on type '${type}'.`);
    }
    if (!out.includes(canonical)) out.push(canonical);
  }
  if (!out.includes("id")) out.unshift("id");
  return out;
}

/** Reads `$top` (1..max); Graph rejects anything else. */
export function parseTop(top: string | null, defaultTop: number, maxTop: number): number {
  if (top === null) return defaultTop;
  const n = Number(top);
  if (!Number.isInteger(n) || n < 1 || n > maxTop) {
    throw new ODataError(
      400,
      "Request_UnsupportedQuery",
      `Invalid page size specified: '${top}'. Must be between 1 and ${maxTop} inclusive.`,
    );
  }
  return n;
}

interface SkipTokenState {
  /** Next position in the snapshot. */
  p: number;
  /** Id of the last item returned, to re-anchor if items were added or removed meanwhile. */
  k: string;
}

/** Encodes a paging position as an opaque token (like Graph's `RFNwdAIA…`). */
export function encodeSkipToken(state: SkipTokenState): string {
  return `RFNwd${base64url(JSON.stringify(state))}`;
}

/** Reads a token from `encodeSkipToken`; anything else is Graph's expired-token error. */
export function decodeSkipToken(token: string): SkipTokenState {
  try {
    if (!token.startsWith("RFNwd")) throw new Error("foreign token");
    const state = JSON.parse(Buffer.from(token.slice(5), "base64url").toString("utf8")) as SkipTokenState;
    if (!Number.isInteger(state.p) || state.p < 0 || typeof state.k !== "string")
      throw new Error("bad token");
    return state;
  } catch {
    throw new ODataError(
      400,
      "Directory_ExpiredPageToken",
      "The specified page token value has expired and can no longer be included in your request.",
    );
  }
}

/**
 * Reads OData system query options case-insensitively and with or without the
 * `$` (Graph accepts `select=` as `$select=`).
 */
export function odataParam(query: URLSearchParams, name: string): string | null {
  const bare = name.replace(/^\$/, "").toLowerCase();
  for (const [key, value] of query) {
    if (key.replace(/^\$/, "").toLowerCase() === bare) return value;
  }
  return null;
}

/** Builds a query string the way Graph writes nextLinks: `$` and `,` kept literal. */
export function odataQueryString(params: [string, string][]): string {
  return params
    .map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2C/gi, ",").replace(/%24/g, "$")}`)
    .join("&");
}
