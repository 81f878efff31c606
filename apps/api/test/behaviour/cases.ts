/** Every behaviour case, by area: the Node runner (test/behaviour.test.ts) and the Worker runner run these. */
import { checksCases } from "./checks.cases.ts";
import { ingestCases } from "./ingest.cases.ts";
import { pingsCases } from "./ping.cases.ts";

export const areas = [...pingsCases, ...checksCases, ...ingestCases];
