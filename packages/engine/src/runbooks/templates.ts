/**
 * Built-in runbooks for the maintenance a small server needs, using what the probe already sees: pending
 * and security updates and reboot-required (OS upgrade), containers and Docker's own accounting (cleanup),
 * authorized SSH keys with the changes since the last review (key review), backup runs (backup preparation).
 * They are starting points: a runbook made from one is the project's own to edit.
 */
import { createRunbookRequestSchema, type FromTemplateRequest, type RunbookTemplate } from "@vigil/contract";
import type { Db, RunbookRow } from "@vigil/db";
import type { Clock } from "../clock.ts";
import { InvalidInputError } from "../errors.ts";
import { createRunbook } from "./runbooks.ts";

const templates: RunbookTemplate[] = [
  {
    id: "os-upgrade",
    name: "OS upgrade",
    description: "Upgrade the packages of Debian/Ubuntu hosts, then reboot where the upgrade asks for it.",
    schedule: { cron: "0 9 1 * *", tz: "UTC", graceSec: 7 * 86_400 },
    steps: [
      {
        kind: "manual",
        title: "Review pending updates",
        text: "Pending and security updates on each host, as its probe last saw them. Read the changelogs of anything that matters (database, web server, kernel) before going on.",
        shows: ["updates", "reboot"],
      },
      {
        kind: "command",
        title: "Refresh the package lists",
        text: "Runs on each chosen host's probe. Upgrading needs root: install the probe there with `--enable-runbooks --runbook-allow apt-get --runbooks-as-root` (the allow-list entry covers both commands; as the probe's own user apt-get cannot write the system).",
        command: "apt-get update -q",
        timeoutSec: 600,
        shows: [],
      },
      {
        kind: "command",
        title: "Upgrade packages",
        command: "apt-get -y -q upgrade",
        timeoutSec: 1800,
        shows: [],
      },
      {
        kind: "manual",
        title: "Reboot where required",
        text: "Hosts that say *reboot required* need one to load the new kernel or libraries. Reboot them in a quiet moment, one at a time, and mark this step done when they are back.",
        shows: ["reboot", "updates"],
      },
    ],
  },
  {
    id: "docker-cleanup",
    name: "Docker cleanup",
    description: "Remove stopped containers, unused images, networks and build cache older than a week.",
    schedule: { cron: "0 4 * * 0", tz: "UTC", graceSec: 3 * 86_400 },
    steps: [
      {
        kind: "command",
        title: "Space Docker could reclaim",
        text: "Docker's own accounting; the RECLAIMABLE column is what the next step frees.",
        command: "docker system df",
        timeoutSec: 120,
        shows: ["containers"],
      },
      {
        kind: "command",
        title: "Prune",
        command: 'docker system prune -af --filter "until=168h"',
        timeoutSec: 1800,
        shows: [],
      },
      {
        kind: "command",
        title: "Space after",
        command: "docker system df",
        timeoutSec: 120,
        shows: ["containers"],
      },
    ],
  },
  {
    id: "ssh-key-review",
    name: "SSH key review",
    description:
      "Confirm that every authorized SSH key is still needed, and see what changed since the last review.",
    schedule: { cron: "0 9 1 */3 *", tz: "UTC", graceSec: 14 * 86_400 },
    steps: [
      {
        kind: "manual",
        title: "Review the authorized keys",
        text: "Every key that can log in, per user, with the keys added or removed since the last review of this runbook. Confirm each one still needed; remove the others from `authorized_keys` before marking this step done.",
        shows: ["ssh-keys"],
      },
    ],
  },
  {
    id: "backup-preparation",
    name: "Backup preparation",
    description: "Before a risky change (an upgrade, a migration): make sure there is a fresh, good backup.",
    schedule: { cron: "0 8 * * 1", tz: "UTC", graceSec: 2 * 86_400 },
    steps: [
      {
        kind: "manual",
        title: "Last backup runs",
        text: "The newest successful and failed run of each backup job on each host. A job without a success in the last day needs a run now.",
        shows: ["backups"],
      },
      {
        kind: "manual",
        title: "Check the repositories",
        text: "Run `vigil-probe backup-check` (see the README's backup assurance section) against each repository, or look at the Backups screen: the last check must be *ok* and the last restore drill identical.",
        shows: ["backups"],
      },
    ],
  },
].map((t) => ({ ...t, steps: createRunbookRequestSchema.shape.steps.parse(t.steps) }));

export function runbookTemplates(): RunbookTemplate[] {
  return templates;
}

export function findTemplate(id: string): RunbookTemplate | undefined {
  return templates.find((t) => t.id === id);
}

/** A runbook of the project's own, made from a template (its usual cadence unless `schedule` says otherwise). */
export async function createRunbookFromTemplate(
  db: Db,
  clock: Clock,
  projectId: string,
  input: FromTemplateRequest,
): Promise<RunbookRow> {
  const template = findTemplate(input.template);
  if (!template) {
    const known = templates.map((t) => t.id).join(", ");
    throw new InvalidInputError("body.template", `no such template; there are ${known}`);
  }
  return createRunbook(
    db,
    clock,
    projectId,
    {
      name: input.name ?? template.name,
      description: template.description,
      steps: template.steps,
      hosts: input.hosts,
      schedule: input.schedule === undefined ? template.schedule : input.schedule,
    },
    template.id,
  );
}
