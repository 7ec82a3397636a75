import { describe, expect, it } from "vitest";
import { Redactor, oneLine, outputRedactor, rememberSecret } from "../../lib/redaction.js";
import { redactingLogger, type Logger } from "../../lib/logger.js";
import { HttpError, excerpt } from "../../lib/errors.js";
import { redactAnswer } from "../../lib/host/redact-answer.js";
import { redactingStore } from "../../lib/state/redacting-store.js";
import { MemoryStateStore } from "./incidents/memory-store.js";
import { seededRandom } from "../helpers/differential.js";

const JWT =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoIiwicm9sZXMiOltdfQ.c2lnbmF0dXJlLWJ5dGVz";

describe("Redactor", () => {
  it("replaces every registered value, longest first, and ignores short ones", () => {
    const r = new Redactor();
    r.add("abcdef123456", "abcdef123456789", "short", undefined, null);
    expect(r.size).toBe(2);
    expect(r.redact("a abcdef123456789 b abcdef123456 c short")).toBe("a [REDACTED] b [REDACTED] c short");
  });

  it("treats registered values literally, not as patterns", () => {
    const r = new Redactor();
    r.add("a.b*c+d?(e)");
    expect(r.redact("x a.b*c+d?(e) y aXbbbcd")).toBe("x [REDACTED] y aXbbbcd");
  });

  it.each([
    ["a bearer token", `Authorization: Bearer ${JWT}`, "Authorization: Bearer [REDACTED]"],
    ["a bearer that is not a JWT", "got Bearer nyk_v0_0123456789abcdefXYZ", "got Bearer [REDACTED]"],
    ["a bare JWT", `token ${JWT} end`, "token [REDACTED] end"],
    [
      "a functions key header, JSON",
      `{"x-functions-key":"k3yk3yk3yk3y"}`,
      `{"x-functions-key":"[REDACTED]"}`,
    ],
    [
      "a client secret in a form body",
      "grant_type=x&client_secret=Qx8~abc.DEF_123&scope=y",
      "grant_type=x&client_secret=[REDACTED]&scope=y",
    ],
    [
      "the health key in a query",
      "GET /api/health?code=abcdefghijklmnop&x=1",
      "GET /api/health?code=[REDACTED]&x=1",
    ],
    [
      "a SAS signature",
      "https://a.table.core.windows.net/t?sv=1&sig=AbC%2Bdef%3D",
      "https://a.table.core.windows.net/t?sv=1&sig=[REDACTED]",
    ],
    ["an API key field", `{"api_key": "nyk_0123456789"}`, `{"api_key": "[REDACTED]"}`],
  ])("removes %s it was never told about", (_what, input, expected) => {
    expect(new Redactor().redact(input)).toBe(expected);
  });

  it.each([
    "Set NYLAS_API_KEY: it is not set.",
    "passwordCredentials: 2 secrets; keyId 3f1c…",
    "Bearer authentication was refused",
    "exit code 3; see https://learn.microsoft.com/en-us/graph/api/application-addpassword?view=graph-rest-1.0",
  ])("leaves ordinary product text alone: %s", (text) => {
    expect(new Redactor().redact(text)).toBe(text);
  });

  it("redacts every string of a JSON value, keeping keys, numbers and non-plain objects", () => {
    const r = new Redactor();
    r.add("s3cr3t-value");
    const at = new Date(0);
    const out = r.redactValue({ a: "x s3cr3t-value", b: [1, "s3cr3t-value"], s3cr3t: { c: at, d: null } });
    expect(out).toEqual({ a: "x [REDACTED]", b: [1, "[REDACTED]"], s3cr3t: { c: at, d: null } });
    expect(out.s3cr3t.c).toBe(at);
  });
});

describe("the output choke points", () => {
  it("log lines are redacted by the process's redactor and kept on one line", () => {
    rememberSecret("logged-secret-123");
    const lines: string[] = [];
    const sink: Logger = {
      debug: (m) => lines.push(m),
      info: (m) => lines.push(m),
      warn: (m) => lines.push(m),
      error: (m) => lines.push(m),
    };
    redactingLogger(sink).warn("grant g1\r\nerror forged line", "logged-secret-123");
    expect(lines).toEqual(["grant g1\\nerror forged line [REDACTED]"]);
    expect(oneLine("a\rb\nc")).toBe("a\\nb\\nc");
  });

  it("an HttpError's message and body are redacted and bounded", () => {
    rememberSecret("err-secret-456");
    const html = `<html>${"x ".repeat(100_000)}</html>`;
    const e = new HttpError(`nylas: failed: err-secret-456 ${html}`, {
      service: "nylas",
      statusCode: 502,
      body: `err-secret-456 ${html}`,
    });
    expect(e.message).not.toContain("err-secret-456");
    expect(e.message.length).toBeLessThanOrEqual(2_001);
    expect(e.body).toMatch(/^\[REDACTED\] /);
    expect(e.body!.length).toBeLessThanOrEqual(501);
  });

  it("excerpt collapses whitespace and cuts at a word", () => {
    expect(excerpt("a\n\n b   c", 10)).toBe("a b c");
    expect(excerpt("alpha beta gamma delta", 12)).toBe("alpha beta…");
  });

  it("a Function's answer is redacted, string and JSON bodies alike", () => {
    rememberSecret("answer-secret-789");
    expect(redactAnswer({ status: 500, body: "failed: answer-secret-789" }).body).toBe("failed: [REDACTED]");
    expect(redactAnswer({ jsonBody: { error: "answer-secret-789" } }).jsonBody).toEqual({
      error: "[REDACTED]",
    });
    expect(redactAnswer({ status: 204 })).toEqual({ status: 204 });
  });

  it("a state record is redacted on its way in; the store is still the store it was", async () => {
    rememberSecret("state-secret-000");
    const inner = new MemoryStateStore();
    const store = redactingStore(inner);
    expect(store).toBeInstanceOf(MemoryStateStore);
    await store.put("runs", "r", { error: "refused state-secret-000" });
    expect((await inner.get<{ error: string }>("runs", "r"))?.value.error).toBe("refused [REDACTED]");
  });

  it("the process redactor is one instance", () => {
    expect(outputRedactor.redact("state-secret-000")).toBe("[REDACTED]");
  });
});

describe("the credential shapes, against the patterns they replaced", () => {
  // The shapes as they were before they were made faster (2026-12-01): same text out, for any text in.
  const REFERENCE: [RegExp, string][] = [
    [/\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{16,}/gi, "$1$2[REDACTED]"],
    [/\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*/g, "[REDACTED]"],
    [
      /(["']?\b(?:authorization|x-functions-key|x-api-key|api[_-]?key|client[_-]?secret|secret[_-]?text|access[_-]?token|refresh[_-]?token|id[_-]?token|client[_-]?assertion|password)\b["']?\s*[:=]\s*["']?)(?!\[REDACTED\]|Bearer\b|Basic\b)[^"'\s&,;<}]{6,}/gi,
      "$1[REDACTED]",
    ],
    [/([?&](?:code|sig|api_key|apikey|access_token|key)=)(?!\[REDACTED\])[^&\s"'<#]+/gi, "$1[REDACTED]"],
  ];
  const reference = (text: string) => REFERENCE.reduce((out, [shape, to]) => out.replace(shape, to), text);
  // Pieces that make and unmake every shape: names in both cases, quotes, separators, values, edges.
  const PIECES = [
    "password",
    "PASSWORD",
    "Password",
    "client_secret",
    "client-secret",
    "clientsecret",
    "Client_Assertion",
    "api_key",
    "apikey",
    "API-KEY",
    "x-api-key",
    "X-Functions-Key",
    "authorization",
    "Authorization",
    "secret_text",
    "access_token",
    "refresh-token",
    "id_token",
    "idtoken",
    "mypassword",
    "password2",
    '"',
    "'",
    ":",
    "=",
    " ",
    "  ",
    "\t",
    "\n",
    ",",
    ";",
    "&",
    "?",
    "#",
    "<",
    "}",
    "{",
    "[REDACTED]",
    "Bearer ",
    "Basic ",
    "bearer\t",
    "abcdefghijklmnop",
    "s3cr3t-v4lu3~",
    "abc",
    "eyJhbGciOiJI",
    ".",
    "eyJzdWIiOiIx",
    "sig=",
    "?code=",
    "&key=",
    "?Sig=",
    "&ACCESS_TOKEN=",
    "?apikey=",
    "&api_key=",
    "x",
    '{"type":"password","keyId":"',
    '"hint":"abc"',
    "-",
    "_",
    "é",
  ];

  it("redact() gives exactly what the previous patterns gave, on 20,000 seeded random texts", () => {
    const random = seededRandom(20261201);
    const redactor = new Redactor();
    let changed = 0;
    for (let i = 0; i < 20_000; i++) {
      const count = 1 + Math.floor(random() * 14);
      let text = "";
      for (let j = 0; j < count; j++) text += PIECES[Math.floor(random() * PIECES.length)];
      const expected = reference(text);
      if (expected !== text) changed++;
      expect(redactor.redact(text), JSON.stringify(text)).toBe(expected);
    }
    // The texts exercise the shapes: a good share of them had something redacted.
    expect(changed).toBeGreaterThan(2_000);
  });
});
