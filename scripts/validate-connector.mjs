#!/usr/bin/env node
// Validates the Power Automate connector definitions in connector/.
//
// For every connector/*.swagger.json:
//   1. @apidevtools/swagger-parser validates it against the Swagger 2.0 schema and resolves
//      every $ref (a dangling reference fails here).
//   2. Project rules that the certification validator also enforces and that are cheap to
//      check offline (see checkDefinition below).
// The matching properties file (apiDefinition.swagger.json → apiProperties.json,
// NAME.swagger.json → NAME.apiProperties.json) is checked too when it exists.
//
// Before looking at the real files the script runs the rules against a deliberately broken
// definition and fails if any rule stays silent, so a rule that stopped working cannot let a
// bad definition through unnoticed.
//
// Usage: node scripts/validate-connector.mjs [FILE.swagger.json ...]
// Exit status: 0 when everything passes, 1 otherwise.

import { readFile, readdir, access } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import SwaggerParser from "@apidevtools/swagger-parser";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const connectorDir = path.join(root, "connector");

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"];
const MAX_SUMMARY = 80;
const MAX_TITLE = 30;

// checkDefinition applies the project rules to a parsed, dereferenced Swagger 2.0 document
// and returns a list of problems, each a string naming where the problem is.
export function checkDefinition(api) {
  const problems = [];
  const add = (where, msg) => problems.push(`${where}: ${msg}`);

  const title = api.info?.title ?? "";
  if (title.length === 0 || title.length > MAX_TITLE) {
    add("info.title", `must be 1..${MAX_TITLE} characters, is ${title.length}`);
  }
  if (/\b(api|connector)\b/i.test(title)) {
    add("info.title", `must not contain "API" or "Connector" ("${title}")`);
  }
  const infoDescription = api.info?.description ?? "";
  if (infoDescription.length < 30 || infoDescription.length > 500) {
    add("info.description", `must be 30..500 characters, is ${infoDescription.length}`);
  }
  if (typeof api.host !== "string" || api.host === "" || /[/:]/.test(api.host.replace(/:\d+$/, ""))) {
    add("host", `must be a bare host name without scheme or path ("${api.host}")`);
  }
  if (typeof api.basePath !== "string" || !api.basePath.startsWith("/")) {
    add("basePath", `must start with "/" ("${api.basePath}")`);
  }

  const operations = new Map(); // operationId -> {method, path, op}
  const seenPaths = new Map(); // lower-cased path -> original
  for (const [p, item] of Object.entries(api.paths ?? {})) {
    if (/[?#]/.test(p)) add(`paths["${p}"]`, "must not contain ? or #");
    const lower = p.toLowerCase();
    if (seenPaths.has(lower)) add(`paths["${p}"]`, `differs only in case from "${seenPaths.get(lower)}"`);
    seenPaths.set(lower, p);
    if (item.parameters?.length) {
      add(`paths["${p}"]`, "declare parameters on each operation, not on the path item");
    }

    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const where = `${method.toUpperCase()} ${p}`;
      checkOperation(op, method, p, where, add);
      if (op.operationId) {
        if (operations.has(op.operationId)) {
          const other = operations.get(op.operationId);
          add(where, `operationId ${op.operationId} is also used by ${other.method.toUpperCase()} ${other.path}`);
        } else {
          operations.set(op.operationId, { method, path: p, op });
        }
      }
    }
  }

  const testConnection = api["x-ms-capabilities"]?.testConnection;
  if (testConnection) {
    const target = operations.get(testConnection.operationId);
    if (!target) {
      add("x-ms-capabilities.testConnection", `names operation "${testConnection.operationId}", which does not exist`);
    } else if (target.method !== "get") {
      add("x-ms-capabilities.testConnection", `operation ${testConnection.operationId} must be a GET`);
    }
  }

  // Dropdowns must be filled by operations that exist, whether the dropdown is a parameter or
  // a property inside a body schema (a trigger's configuration, for instance).
  for (const { method, path: p, op } of operations.values()) {
    for (const param of op.parameters ?? []) {
      forEachDynamicValues(param, `${method.toUpperCase()} ${p} parameter ${param.name}`, (dyn, where) => {
        if (!operations.has(dyn.operationId)) {
          add(where, `x-ms-dynamic-values names operation "${dyn.operationId}", which does not exist`);
        }
      });
    }
  }

  return problems;
}

// forEachDynamicValues calls fn with every x-ms-dynamic-values found on node (a parameter or a
// schema) and in its body schema, properties and array items, with where naming the spot.
function forEachDynamicValues(node, where, fn, seen = new Set()) {
  if (!node || typeof node !== "object" || seen.has(node)) return;
  seen.add(node); // dereferenced documents may share (or loop back to) schema objects
  if (node["x-ms-dynamic-values"]) fn(node["x-ms-dynamic-values"], where);
  if (node.schema) forEachDynamicValues(node.schema, where, fn, seen);
  for (const [name, prop] of Object.entries(node.properties ?? {})) {
    forEachDynamicValues(prop, `${where}.${name}`, fn, seen);
  }
  if (node.items) forEachDynamicValues(node.items, `${where}[]`, fn, seen);
  for (const sub of node.allOf ?? []) forEachDynamicValues(sub, where, fn, seen);
}

function checkOperation(op, method, p, where, add) {
  if (!op.operationId) {
    add(where, "has no operationId");
  } else if (!/^[A-Za-z][A-Za-z0-9]*$/.test(op.operationId)) {
    add(where, `operationId "${op.operationId}" must be alphanumeric and start with a letter`);
  }

  const summary = op.summary ?? "";
  if (summary === "") {
    add(where, "has no summary");
  } else {
    if (summary.length > MAX_SUMMARY) add(where, `summary is ${summary.length} characters, at most ${MAX_SUMMARY}`);
    if (!/^[A-Za-z0-9 ()]+$/.test(summary)) add(where, `summary "${summary}" may use only letters, digits, spaces and parentheses`);
    if (summary !== summary.trim()) add(where, "summary has leading or trailing spaces");
  }
  const description = op.description ?? "";
  if (description === "") {
    add(where, "has no description");
  } else {
    if (description.trim() === summary.trim()) add(where, "description must differ from the summary");
    if (!/[.!?]$/.test(description.trim())) add(where, "description must be full sentences ending in punctuation");
  }

  const responses = op.responses ?? {};
  if (!Object.keys(responses).some((code) => /^2\d\d$/.test(code))) {
    add(where, "has no 2xx response");
  }
  if (responses.default?.schema) {
    add(where, "the default response must not have a schema");
  }

  const params = op.parameters ?? [];
  const bodies = params.filter((x) => x.in === "body");
  if (bodies.length > 1) add(where, "has more than one body parameter");
  if (bodies.length > 0 && (method === "get" || method === "delete")) {
    add(where, `a ${method.toUpperCase()} operation must not have a body`);
  }
  const templateNames = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  for (const param of params) {
    const pw = `${where} parameter ${param.name}`;
    if (param.name === "connectionId") add(pw, "the name connectionId is reserved by the platform");
    if (param.in === "path") {
      if (param.required !== true) add(pw, "path parameters must be required");
      if (!param["x-ms-url-encoding"]) add(pw, 'path parameters must set x-ms-url-encoding (use "single")');
      if (!templateNames.includes(param.name)) add(pw, `is not in the path template ${p}`);
    }
    if (param["x-ms-visibility"] === "internal" && param.required === true && param.default === undefined) {
      add(pw, "an internal required parameter needs a default");
    }
    if (param.in !== "body" && !param["x-ms-summary"]) add(pw, "has no x-ms-summary");
    if (!param.description) add(pw, "has no description");
  }
  for (const name of templateNames) {
    if (!params.some((x) => x.in === "path" && x.name === name)) {
      add(where, `path template names {${name}} but no path parameter declares it`);
    }
  }
}

// checkSchemaTitles requires x-ms-summary and a description on every property of every
// definition in the raw (not dereferenced) document, so makers see titles and help text.
export function checkSchemaTitles(raw) {
  const problems = [];
  const visit = (schema, where) => {
    if (!schema || typeof schema !== "object" || schema.$ref) return;
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      const pw = `${where}.${name}`;
      if (!prop.$ref) {
        if (!prop["x-ms-summary"]) problems.push(`${pw}: has no x-ms-summary`);
        if (!prop.description) problems.push(`${pw}: has no description`);
      }
      visit(prop, pw);
    }
    if (schema.items) visit(schema.items, `${where}[]`);
  };
  for (const [name, schema] of Object.entries(raw.definitions ?? {})) {
    visit(schema, `definitions.${name}`);
  }
  return problems;
}

// checkProperties checks an apiProperties.json document: the dynamic host template must
// point at a connection parameter that exists, and the OAuth settings must carry what the
// aad identity provider needs.
export function checkProperties(props) {
  const problems = [];
  const p = props?.properties;
  if (!p) return ["properties: missing"];
  if (!p.iconBrandColor) problems.push("properties.iconBrandColor: missing");
  if (/^#(ffffff|007ee5)$/i.test(p.iconBrandColor ?? "")) {
    problems.push(`properties.iconBrandColor: ${p.iconBrandColor} is not allowed`);
  }
  const conn = p.connectionParameters ?? {};
  for (const [i, inst] of (p.policyTemplateInstances ?? []).entries()) {
    const tmpl = inst.parameters?.["x-ms-apimTemplateParameter.urlTemplate"];
    if (String(inst.templateId).toLowerCase() !== "dynamichosturl") continue;
    if (!tmpl) {
      problems.push(`properties.policyTemplateInstances[${i}]: dynamichosturl needs x-ms-apimTemplateParameter.urlTemplate`);
      continue;
    }
    for (const m of tmpl.matchAll(/@connectionParameters\('([^']+)'\)/g)) {
      if (!conn[m[1]]) {
        problems.push(`properties.policyTemplateInstances[${i}]: urlTemplate uses connection parameter "${m[1]}", which is not declared`);
      }
    }
  }
  for (const [name, cp] of Object.entries(conn)) {
    const o = cp.oAuthSettings;
    if (cp.type === "oauthSetting" && !o) problems.push(`connectionParameters.${name}: oauthSetting without oAuthSettings`);
    if (o?.identityProvider === "aad" && !o.customParameters?.resourceUri?.value) {
      problems.push(`connectionParameters.${name}.oAuthSettings.customParameters.resourceUri: required for identityProvider aad`);
    }
  }
  return problems;
}

async function validateFile(file) {
  const rel = path.relative(root, file);
  const problems = [];
  let raw;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    return [`${rel}: not valid JSON: ${err.message}`];
  }
  let api;
  try {
    // validate() dereferences in place, so hand it a copy and keep the raw document.
    api = await SwaggerParser.validate(structuredClone(raw), { validate: { schema: true, spec: true } });
  } catch (err) {
    problems.push(`${rel}: Swagger 2.0 validation failed: ${conciseMessage(err.message)}`);
    // Still apply the project rules when the references resolve, so one run shows every problem.
    try {
      api = await SwaggerParser.dereference(structuredClone(raw));
    } catch {
      return problems;
    }
  }
  if (raw.swagger !== "2.0") problems.push(`${rel}: swagger must be "2.0"`);
  for (const msg of [...checkDefinition(api), ...checkSchemaTitles(raw)]) problems.push(`${rel}: ${msg}`);

  const base = path.basename(file, ".swagger.json");
  const propsFile = path.join(path.dirname(file), base === "apiDefinition" ? "apiProperties.json" : `${base}.apiProperties.json`);
  if (await exists(propsFile)) {
    const prel = path.relative(root, propsFile);
    try {
      const props = JSON.parse(await readFile(propsFile, "utf8"));
      for (const msg of checkProperties(props)) problems.push(`${prel}: ${msg}`);
    } catch (err) {
      problems.push(`${prel}: not valid JSON: ${err.message}`);
    }
  }
  return problems;
}

// conciseMessage drops the repeated lines that schema validation emits for one fault (every
// oneOf branch reports its own mismatch) and caps the rest.
function conciseMessage(message) {
  const lines = [...new Set(message.split("\n").map((l) => l.trimEnd()).filter(Boolean))];
  const max = 12;
  if (lines.length <= max) return lines.join("\n");
  return [...lines.slice(0, max), `  ... ${lines.length - max} more`].join("\n");
}

async function exists(f) {
  try {
    await access(f);
    return true;
  } catch {
    return false;
  }
}

// selfTest feeds the rules a definition with one known fault per rule and fails when a fault
// goes unreported.
async function selfTest() {
  const broken = {
    swagger: "2.0",
    info: { title: "Broken Connector API used by the self-test", version: "1.0", description: "short" },
    host: "https://example.com/x",
    basePath: "api",
    paths: {
      "/a/{id}": {
        get: {
          summary: "Get a thing; with a forbidden character",
          description: "Get a thing; with a forbidden character",
          parameters: [{ name: "id", in: "path", required: false, type: "string" }],
          responses: { default: { description: "error", schema: { type: "object" } } },
        },
      },
      "/b": {
        post: {
          operationId: "MakeB",
          summary: "Make b",
          description: "Makes b.",
          parameters: [
            { name: "q", in: "query", type: "string", required: true, "x-ms-visibility": "internal" },
            {
              name: "body",
              in: "body",
              description: "A body with a dropdown fed by a missing operation.",
              schema: {
                type: "object",
                properties: { list: { type: "array", items: { type: "string", "x-ms-dynamic-values": { operationId: "NoSuchList" } } } },
              },
            },
          ],
          responses: { 200: { description: "ok" } },
        },
      },
    },
    "x-ms-capabilities": { testConnection: { operationId: "Missing" } },
  };
  const problems = checkDefinition(broken);
  const expect = [
    /info\.title: must be 1\.\.30/,
    /info\.title: must not contain/,
    /info\.description: must be 30\.\.500/,
    /host: must be a bare host/,
    /basePath: must start/,
    /has no operationId/,
    /may use only letters/,
    /description must differ from the summary/,
    /has no 2xx response/,
    /default response must not have a schema/,
    /path parameters must be required/,
    /must set x-ms-url-encoding/,
    /internal required parameter needs a default/,
    /has no x-ms-summary/,
    /has no description/,
    /testConnection: names operation "Missing"/,
    /parameter body\.list\[\]: x-ms-dynamic-values names operation "NoSuchList"/,
  ];
  const missed = expect.filter((re) => !problems.some((msg) => re.test(msg)));
  const titleProblems = checkSchemaTitles({ definitions: { T: { properties: { a: { type: "string" } } } } });
  if (titleProblems.length !== 2) missed.push("checkSchemaTitles did not report a property without title and description");
  const propProblems = checkProperties({
    properties: {
      iconBrandColor: "#007ee5",
      connectionParameters: { token: { type: "oauthSetting", oAuthSettings: { identityProvider: "aad" } } },
      policyTemplateInstances: [{ templateId: "dynamichosturl", parameters: { "x-ms-apimTemplateParameter.urlTemplate": "@connectionParameters('nope')" } }],
    },
  });
  if (propProblems.length !== 3) missed.push(`checkProperties found ${propProblems.length} of 3 faults`);
  let schemaCaught = false;
  try {
    await SwaggerParser.validate({ swagger: "2.0", info: { title: "x", version: "1" }, paths: { "/x": { get: { responses: { 200: { description: "ok", schema: { $ref: "#/definitions/Nope" } } } } } } });
  } catch {
    schemaCaught = true;
  }
  if (!schemaCaught) missed.push("swagger-parser accepted a dangling $ref");
  return missed.map(String);
}

async function main() {
  const missed = await selfTest();
  if (missed.length > 0) {
    console.error("validate-connector: self-test failed; these deliberate faults were not reported:");
    for (const m of missed) console.error(`  ${m}`);
    process.exit(1);
  }
  console.log("validate-connector: self-test passed (every rule caught its deliberate fault)");

  let files = process.argv.slice(2).map((f) => path.resolve(f));
  if (files.length === 0) {
    files = (await readdir(connectorDir))
      .filter((f) => f.endsWith(".swagger.json"))
      .sort()
      .map((f) => path.join(connectorDir, f));
  }
  if (files.length === 0) {
    console.error("validate-connector: no connector/*.swagger.json found");
    process.exit(1);
  }

  let failed = 0;
  for (const file of files) {
    const problems = await validateFile(file);
    const rel = path.relative(root, file);
    if (problems.length === 0) {
      console.log(`validate-connector: ${rel}: ok`);
    } else {
      failed++;
      for (const p of problems) console.error(`validate-connector: ${p}`);
    }
  }
  if (failed > 0) {
    console.error(`validate-connector: ${failed} of ${files.length} definition(s) failed`);
    process.exit(1);
  }
  console.log(`validate-connector: ${files.length} definition(s) passed`);
}

await main();
