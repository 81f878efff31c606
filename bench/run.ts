/** `npm run bench`: every benchmark in bench/, printed as Markdown for bench/RESULTS.md. */
import { runChecksBench } from "./checks.ts";

console.log("## Checks (issue 5)\n");
console.log(await runChecksBench());
