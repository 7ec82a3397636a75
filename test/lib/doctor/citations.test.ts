import { describe, expect, it } from "vitest";
import path from "node:path";
import ts from "typescript";
import { readTree } from "../../helpers/read-tree.js";
import { cite, SOURCES } from "../../../lib/doctor/sources.js";
import { explainError, formatExplanations } from "../../../lib/doctor/explain.js";
import { PAGE } from "./cited-pages.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
/** Where user-facing doctor, scan and CLI text lives (the simulator sandbox's command is another matter). */
const DIRS = ["lib/doctor", "lib/watch", "lib/cli"];
const SKIP = new Set(["lib/cli/sandbox-command.ts"]);

/** Every string and template literal of a TypeScript file, comments left out, with its line. */
function literals(file: string, text: string): { line: number; text: string }[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: { line: number; text: string }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      out.push({ line: line + 1, text: node.getText(source) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe("doctor cites public pages, never the files it was built from", () => {
  it("no text in doctor, scan or the CLI mentions a seed or a path outside the repository", () => {
    const offending: string[] = [];
    for (const dir of DIRS) {
      for (const [rel, text] of readTree(path.join(ROOT, dir))) {
        const file = `${dir}/${rel}`;
        if (!file.endsWith(".ts") || SKIP.has(file)) continue;
        for (const lit of literals(file, text))
          if (/seed|\.\.\/shared/i.test(lit.text))
            offending.push(`${file}:${lit.line} ${lit.text.slice(0, 80)}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it("names each page by site, title and URL where the source is listed, and by site and title in advice", () => {
    expect([
      SOURCES.nylasForum45001,
      SOURCES.nylasRenewSecret,
      SOURCES.nylasCreateAzureApp,
      SOURCES.nylasAuthTroubleshooting,
      SOURCES.nylasV2MicrosoftAuth,
    ]).toEqual([
      PAGE.forum45001,
      PAGE.renewSecret,
      PAGE.createAzureApp,
      PAGE.authTroubleshooting,
      PAGE.v2MicrosoftAuth,
    ]);
    expect(cite.nylasForum45001).toBe("Nylas forum, “Nylas Microsoft Provider, 45001 error code”");
  });

  it("every explanation's printed text cites pages by URL and mentions no seed", () => {
    const printed = formatExplanations(
      explainError(
        "45001 AADSTS7000215 AADSTS7000222 AADSTS65001 AADSTS700016 AADSTS50011 AADSTS54005 401 403 grant.not_found EWS.AccessAsUser.All TooManyAppPasswords",
      ),
    );
    expect(printed).toContain(PAGE.forum45001);
    expect(printed).toContain(PAGE.renewSecret);
    expect(printed).toContain(PAGE.authTroubleshooting);
    expect(printed).not.toMatch(/seed|\.\.\/shared/i);
  });
});
