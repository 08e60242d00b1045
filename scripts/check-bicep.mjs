#!/usr/bin/env node
// Syntax check for the Bicep files under infra/, for machines without the Bicep CLI.
//
// Every infra/**/*.bicep is parsed with the tree-sitter Bicep grammar (WebAssembly build, run
// by web-tree-sitter). Any ERROR or MISSING node in the tree is a syntax error and is reported
// as file:line:col. The grammar only knows syntax: names, types and API versions are checked
// by `az deployment group validate` / `what-if`, not here.
//
// Two policy rules ride along because they are cheap on the same tree and guard decisions
// the deployment depends on:
//   - no app setting the Flex Consumption plan rejects or replaces (FUNCTIONS_WORKER_RUNTIME,
//     WEBSITE_RUN_FROM_PACKAGE, ...);
//   - no key-returning functions (listKeys, listAccountSas, ...): every connection is
//     identity-based, so nothing in infra/ should ever need a key.
//
// Before the real files, a self-test parses a deliberately broken snippet and a policy
// violation and fails if either goes unreported, and parses a valid snippet that must pass:
// the check cannot silently pass because the grammar failed to load or matched nothing.
//
// Usage: node scripts/check-bicep.mjs [FILE.bicep ...]
// Exit status: 0 when everything passes, 1 otherwise.

import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { Parser, Language } from "web-tree-sitter";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const require = createRequire(import.meta.url);

const FORBIDDEN_SETTINGS = new Set([
  "FUNCTIONS_WORKER_RUNTIME",
  "FUNCTIONS_WORKER_RUNTIME_VERSION",
  "WEBSITE_RUN_FROM_PACKAGE",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
  "WEBSITE_CONTENTSHARE",
  "linuxFxVersion",
]);
const KEY_FUNCTIONS = new Set(["listKeys", "listAccountSas", "listServiceSas", "listConnectionStrings"]);

async function loadParser() {
  await Parser.init();
  const wasm = path.join(path.dirname(require.resolve("tree-sitter-bicep/package.json")), "tree-sitter-bicep.wasm");
  const language = await Language.load(wasm);
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

// findProblems returns {line, col, message} for every syntax error and policy violation in
// source. Lines and columns are 1-based.
export function findProblems(parser, source) {
  const tree = parser.parse(source);
  const problems = [];
  const at = (node, message) =>
    problems.push({ line: node.startPosition.row + 1, col: node.startPosition.column + 1, message });

  const visit = (node) => {
    if (node.isMissing) {
      at(node, `syntax error: missing ${node.type}`);
      return;
    }
    if (node.isError) {
      const text = node.text.split("\n")[0].slice(0, 60);
      at(node, `syntax error near "${text}"`);
      // Keep descending: a MISSING node inside says more than the ERROR around it.
    }
    if (node.type === "object_property") checkProperty(node, at);
    if (node.type === "call_expression") checkCall(node, at);
    for (const child of node.children) visit(child);
  };
  visit(tree.rootNode);
  tree.delete();
  return problems;
}

function checkProperty(node, at) {
  const key = node.namedChildren[0];
  if (!key) return;
  const name = key.text.replace(/^'|'$/g, "");
  if (FORBIDDEN_SETTINGS.has(name)) {
    at(key, `policy: ${name} must not be set on a Flex Consumption app (the plan sets or rejects it)`);
  }
}

function checkCall(node, at) {
  const fn = node.childForFieldName("function");
  if (!fn) return;
  const name = fn.text.split(".").pop();
  if (KEY_FUNCTIONS.has(name)) {
    at(fn, `policy: ${name}() returns a secret; use a managed identity and role assignments instead`);
  }
}

function selfTest(parser) {
  const failures = [];
  const broken = "param ok string = 'x'\nresource s 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: \n  location: [\n}\n";
  if (findProblems(parser, broken).filter((p) => p.message.startsWith("syntax")).length === 0) {
    failures.push("a deliberately broken snippet parsed without errors");
  }
  const policy = [
    "resource s 'Microsoft.Web/sites/config@2024-04-01' = {",
    "  name: 'appsettings'",
    "  properties: {",
    "    FUNCTIONS_WORKER_RUNTIME: 'custom'",
    "    key: storage.listKeys().keys[0].value",
    "  }",
    "}",
    "",
  ].join("\n");
  const policyProblems = findProblems(parser, policy).map((p) => p.message);
  if (!policyProblems.some((m) => m.includes("FUNCTIONS_WORKER_RUNTIME"))) failures.push("a forbidden app setting was not reported");
  if (!policyProblems.some((m) => m.includes("listKeys"))) failures.push("a listKeys() call was not reported");
  const valid = [
    "@description('Where to deploy.')",
    "param location string = resourceGroup().location",
    "var names = [for i in range(0, 2): 'n${i}']",
    "resource id 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {",
    "  name: 'id-${uniqueString(resourceGroup().id)}'",
    "  location: location",
    "}",
    "output clientId string = id.properties.clientId",
    "",
  ].join("\n");
  const validProblems = findProblems(parser, valid);
  if (validProblems.length > 0) {
    failures.push(`a valid snippet was reported: ${validProblems.map((p) => `${p.line}:${p.col} ${p.message}`).join("; ")}`);
  }
  return failures;
}

async function bicepFiles(dir) {
  const out = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (err.code === "ENOENT") return out;
    throw err;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await bicepFiles(full)));
    else if (e.isFile() && e.name.endsWith(".bicep")) out.push(full);
  }
  return out.sort();
}

async function main() {
  const parser = await loadParser();
  const failures = selfTest(parser);
  if (failures.length > 0) {
    console.error("check-bicep: self-test failed:");
    for (const f of failures) console.error(`  ${f}`);
    process.exit(1);
  }
  console.log("check-bicep: self-test passed (broken snippet and policy violations reported, valid snippet clean)");

  let files = process.argv.slice(2).map((f) => path.resolve(f));
  if (files.length === 0) files = await bicepFiles(path.join(root, "infra"));
  if (files.length === 0) {
    console.error("check-bicep: no .bicep files found under infra/");
    process.exit(1);
  }

  let bad = 0;
  for (const file of files) {
    const rel = path.relative(root, file);
    const problems = findProblems(parser, await readFile(file, "utf8"));
    if (problems.length === 0) {
      console.log(`check-bicep: ${rel}: ok`);
      continue;
    }
    bad++;
    for (const p of problems) console.error(`${rel}:${p.line}:${p.col}: ${p.message}`);
  }
  if (bad > 0) {
    console.error(`check-bicep: ${bad} of ${files.length} file(s) failed`);
    process.exit(1);
  }
  console.log(`check-bicep: ${files.length} file(s) passed`);
}

await main();
