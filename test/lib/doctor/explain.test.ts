import { describe, expect, it } from "vitest";
import { explainError, formatExplanations, KNOWN_ERRORS } from "../../../lib/doctor/explain.js";
import { PAGE } from "./cited-pages.js";

const ids = (text: string) => explainError(text).map((e) => e.id);

describe("doctor --explain knowledge base", () => {
  it("recognises seed 000's redirect with 45001 and gives the thread's steps", () => {
    const text =
      "https://WEBSITE?error=provider_code_request_failed&error_code=45001&error_description=Provider refused to return refresh_token using code&state=…";
    const [e] = explainError(text);
    expect(e?.id).toBe("nylas.45001");
    const printed = formatExplanations(explainError(text));
    expect(printed).toContain("Admin consent has been granted for all permissions");
    expect(printed).toContain("offline_access scope is included in your OAuth request");
    expect(printed).toContain("restart the entire OAuth process");
    expect(printed).toContain(PAGE.forum45001);
  });

  it("finds both causes of seed 000's log, in the order they appear", () => {
    expect(
      ids(
        '"AADSTS7000215: Invalid client secret provided" then 45001 Provider refused to return refresh_token',
      ),
    ).toEqual(["entra.7000215", "nylas.45001"]);
    expect(formatExplanations(explainError("AADSTS7000215: Invalid client secret provided."))).toContain(
      "the client secret value, not the client secret ID",
    );
  });

  it.each([
    [
      "AADSTS7000222: The provided client secret keys for app 'x' are expired.",
      "entra.7000222",
      "New client secret",
    ],
    [
      "The client secret for your Azure application has expired. Please renew",
      "entra.7000222",
      PAGE.renewSecret,
    ],
    [
      "AADSTS65001: The user or administrator has not consented to use the application",
      "entra.65001",
      "admin consent",
    ],
    [
      "AADSTS700016: Application with identifier 'abc' was not found in the directory 'Contoso'.",
      "entra.700016",
      'tenant: \\"common\\"',
    ],
    [
      "AADSTS50011: The redirect URI 'x' specified in the request does not match",
      "entra.50011",
      "api.eu.nylas.com/v3/connect/callback",
    ],
    [
      '{"error":"invalid_grant","error_codes":[70002,54005]} AADSTS54005: OAuth2 Authorization code was already redeemed',
      "oauth.invalid_grant",
      "single-use",
    ],
    ["Request failed with status 401 Unauthorized", "nylas.401", "NYLAS_API_URI=https://api.eu.nylas.com"],
    ["403 Forbidden: insufficient scopes to send", "nylas.403", "Mail.ReadWrite on top of Mail.Send"],
    [
      '{"error":{"type":"grant.not_found"}}',
      "nylas.grant.not_found",
      "Check the Nylas Dashboard to confirm the grant still exists",
    ],
    [
      "One or more of the following permission(s) are currently not supported: EWS.AccessAsUser.All.",
      "entra.v2-permissions",
      "must create a new Azure auth app",
    ],
    [
      "Authorization_RequestDenied: Insufficient privileges to complete the operation.",
      "graph.403",
      "Application.ReadWrite.OwnedBy",
    ],
    [
      "TooManyAppPasswords: Not allowed to add 3 passwords.",
      "graph.TooManyAppPasswords",
      "two client secrets",
    ],
  ])("explains %s", (text, id, phrase) => {
    const found = explainError(text);
    expect(found.map((e) => e.id)).toContain(id);
    expect(formatExplanations(found.filter((e) => e.id === id))).toContain(phrase.replaceAll('\\"', '"'));
  });

  it("does not mistake Entra's 401 invalid_client or Graph's 403 for Nylas ones", () => {
    expect(ids("401 Unauthorized invalid_client AADSTS7000215: Invalid client secret provided")).toEqual([
      "entra.7000215",
    ]);
    expect(ids("403 Authorization_RequestDenied Insufficient privileges to complete the operation")).toEqual([
      "graph.403",
    ]);
    expect(ids("unauthorized_client AADSTS700016 was not found in the directory")).toEqual(["entra.700016"]);
  });

  it("does not match numbers inside longer numbers, and recognises nothing in unrelated text", () => {
    expect(ids("request 3982707269-89c168e1-8153 took 4010 ms at 1401")).toEqual([]);
    expect(ids("the weather is fine")).toEqual([]);
  });

  it("every entry names where its advice comes from", () => {
    expect(KNOWN_ERRORS.length).toBeGreaterThanOrEqual(11);
    for (const text of [
      "45001",
      "AADSTS7000215",
      "AADSTS7000222",
      "AADSTS65001",
      "AADSTS700016",
      "AADSTS50011",
      "AADSTS54005",
      "401",
      "403",
      "grant.not_found",
    ]) {
      const [e] = explainError(text);
      expect(e, text).toBeDefined();
      expect(e!.source).toMatch(/https:\/\/|learn\.microsoft\.com/);
      expect(e!.source).not.toMatch(/seed/i);
      expect(e!.steps.length).toBeGreaterThan(0);
    }
  });
});
