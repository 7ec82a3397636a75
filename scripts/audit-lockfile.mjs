#!/usr/bin/env node
/**
 * `npm run audit`: the supply-chain checks that need no network
 * (`node scripts/audit-lockfile.mjs [package dir]`, default this repository).
 *
 * `npm ci` installs exactly package-lock.json and refuses a tarball whose hash
 * differs from the lockfile's, so the lockfile is what has to be right:
 *  - every package comes from the npm registry (no git, file, link or other
 *    host), under its own name, so a lockfile edit cannot swap a tarball in;
 *  - every package is pinned by a sha512 integrity hash (sha1 can be forged);
 *  - every package that runs an install script is named in package.json's
 *    `allowScripts`, allowed (true) or denied (false), i.e. someone reviewed it;
 *  - the lockfile lists what package.json asks for (`npm ci` refuses otherwise,
 *    but later, and with less to go on).
 *
 * Registry signatures and advisories need the network (Sigstore's TUF root,
 * the registry's advisory endpoint): `npm run audit:registry` runs them where
 * those are reachable. See npm's "npm-audit" documentation:
 * https://docs.npmjs.com/cli/commands/npm-audit.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";

const REGISTRY = "https://registry.npmjs.org/";

/**
 * @typedef {{ version?: string, resolved?: string, integrity?: string, link?: boolean, name?: string,
 *   hasInstallScript?: boolean, dependencies?: Record<string, string>, devDependencies?: Record<string, string> }} Entry
 * @typedef {{ lockfileVersion?: number, packages?: Record<string, Entry> }} Lockfile
 * @typedef {{ dependencies?: Record<string, string>, devDependencies?: Record<string, string>,
 *   allowScripts?: Record<string, boolean> }} Manifest
 */

/** The package name an entry installs: its folder under the last node_modules/, unless aliased. */
function nameOf(/** @type {string} */ path, /** @type {Entry} */ entry) {
  return entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
}

/** What npm writes for a registry tarball: <registry><name>/-/<name without scope>-<version>.tgz. */
function registryTarball(/** @type {string} */ name, /** @type {string} */ version) {
  return `${REGISTRY}${name}/-/${name.slice(name.indexOf("/") + 1)}-${version}.tgz`;
}

/** @returns {string[]} */
function entryProblems(
  /** @type {string} */ path,
  /** @type {Entry} */ entry,
  /** @type {Manifest} */ manifest,
) {
  const name = nameOf(path, entry);
  const problems = [];
  if (entry.link === true) {
    problems.push(`${path} is a link to ${entry.resolved ?? "a folder"}, not a registry package.`);
    return problems;
  }
  const version = entry.version ?? "";
  // Absent when npm is set to omit-lockfile-registry-resolved: the configured registry, then.
  if (entry.resolved !== undefined && entry.resolved !== registryTarball(name, version)) {
    problems.push(`${path} resolves to ${entry.resolved}, not ${name}@${version} on ${REGISTRY}.`);
  }
  const hashes = (entry.integrity ?? "").split(/\s+/).filter((h) => h !== "");
  if (hashes.length === 0 || !hashes.every((h) => h.startsWith("sha512-"))) {
    problems.push(`${path} is not pinned by a sha512 integrity hash (${entry.integrity ?? "none"}).`);
  }
  if (entry.hasInstallScript === true && typeof manifest.allowScripts?.[name] !== "boolean") {
    problems.push(
      `${name} runs an install script nobody has reviewed: read it, then add "${name}": true (or false to deny it) to package.json's "allowScripts".`,
    );
  }
  return problems;
}

/** What package.json asks for that the lockfile's root entry does not record, or records differently. */
function syncProblems(/** @type {Entry} */ root, /** @type {Manifest} */ manifest) {
  const problems = [];
  for (const field of /** @type {const} */ (["dependencies", "devDependencies"])) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (root[field]?.[name] !== range) {
        problems.push(
          `package.json's ${field} has ${name}@${range}; the lockfile does not: run npm install.`,
        );
      }
    }
  }
  return problems;
}

/** @returns {unknown} */
function readJson(/** @type {string} */ path) {
  /** @type {unknown} */
  const parsed = JSON.parse(readFileSync(path, "utf8"));
  return parsed;
}

/**
 * Every problem with the lockfile of the package in `dir`, and how many packages it pins.
 * @returns {{ problems: string[], packages: number, scripts: string[] }}
 */
export function auditLockfile(/** @type {string} */ dir) {
  const manifest = /** @type {Manifest} */ (readJson(resolve(dir, "package.json")));
  const lock = /** @type {Lockfile} */ (readJson(resolve(dir, "package-lock.json")));
  if (lock.packages === undefined || (lock.lockfileVersion ?? 1) < 2) {
    return {
      problems: [
        "package-lock.json predates lockfileVersion 2 (npm 7): run npm install with npm 7 or later.",
      ],
      packages: 0,
      scripts: [],
    };
  }
  const problems = syncProblems(lock.packages[""] ?? {}, manifest);
  const scripts = [];
  let packages = 0;
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === "") continue;
    packages += 1;
    problems.push(...entryProblems(path, entry, manifest));
    if (entry.hasInstallScript === true) {
      const name = nameOf(path, entry);
      const verdict = manifest.allowScripts?.[name];
      scripts.push(
        `${name} (${verdict === true ? "allowed" : verdict === false ? "denied" : "not reviewed"})`,
      );
    }
  }
  return { problems, packages, scripts };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? fileURLToPath(new URL("../", import.meta.url)));
  const { problems, packages, scripts } = auditLockfile(dir);
  if (problems.length > 0) {
    process.stderr.write(`audit: ${problems.length} problem(s) in package-lock.json:\n`);
    for (const problem of problems) process.stderr.write(`  - ${problem}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(
      `audit: ${packages} packages, each from ${REGISTRY} and pinned by a sha512 hash; ` +
        `install scripts reviewed: ${scripts.join(", ") || "none"}.\n` +
        "Signatures and advisories need the network: npm run audit:registry.\n",
    );
  }
}
