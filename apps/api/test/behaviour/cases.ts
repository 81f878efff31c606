/** Every behaviour case, by area: the Node runner (test/behaviour.test.ts) and the Worker runner run these. */
import { pingsCases } from "./ping.cases.ts";

export const areas = [...pingsCases];
