/** Every behaviour case, by area: the Node runner (test/behaviour.test.ts) and the Worker runner run these. */
import { accountsCases } from "./accounts.cases.ts";
import { alertsCases } from "./alerts.cases.ts";
import { apiCases } from "./api.cases.ts";
import { checksCases } from "./checks.cases.ts";
import { configureCases } from "./configure-routes.cases.ts";
import { hostDataCases } from "./host-data.cases.ts";
import { ingestCases } from "./ingest.cases.ts";
import { observeCases } from "./observe-api.cases.ts";
import { pingsCases } from "./ping.cases.ts";
import { rulesCases } from "./rules.cases.ts";
import { statusCases } from "./status.cases.ts";

export const areas = [
  ...pingsCases,
  ...checksCases,
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
