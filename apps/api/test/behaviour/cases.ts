/**
 * Every behaviour case, by area. The Node runner (test/behaviour.test.ts: the self-hosted server's deps on
 * libSQL :memory:) and the Worker runner (test/workers/behaviour.test.ts: `workerDeps` inside workerd on a
 * fresh sqld) run each one on a fresh project. A case sees only its Target (target.ts): HTTP, the clock,
 * the scheduler's tick and its outside servers. Where a runtime differs on purpose, the case says why in
 * `differs` and branches on `t.runtime`. Node-only tests (process, files, browsers, promtool, engine
 * internals counted in the database) stay in test/*.test.ts.
 */
import { accountsCases } from "./accounts.cases.ts";
import { alertsCases } from "./alerts.cases.ts";
import { apiCases } from "./api.cases.ts";
import { checksCases } from "./checks.cases.ts";
import { configureCases } from "./configure-routes.cases.ts";
import { hostDataCases } from "./host-data.cases.ts";
import { ingestCases } from "./ingest.cases.ts";
import { locationsCases } from "./locations.cases.ts";
import { observeCases } from "./observe-api.cases.ts";
import { pingsCases } from "./ping.cases.ts";
import { rulesCases } from "./rules.cases.ts";
import { runbooksCases } from "./runbooks.cases.ts";
import { statusCases } from "./status.cases.ts";

export const areas = [
  ...pingsCases,
  ...checksCases,
  ...locationsCases,
  ...runbooksCases,
  ...ingestCases,
  ...hostDataCases,
  ...observeCases,
  ...rulesCases,
  ...alertsCases,
  ...statusCases,
  ...apiCases,
  ...configureCases,
  ...accountsCases,
];
