import { expect } from "vitest";
import { area } from "./case.ts";
import { getCheck, read, write } from "./client.ts";

interface RunView {
  id: string;
  status: string;
  startedBy: string;
  steps: { status: string; doneBy: string | null; note: string | null }[];
}

export const runbooksCases = [
  area("runbooks and lifecycle tasks", [
    {
      name: "a monthly task alerts by mail once it is overdue, and a run of its runbook resets the clock",
      run: async (t) => {
        await write(
          t,
          "POST",
          "/api/v1/channels",
          { kind: "email", name: "mail", to: [t.outside.email()], isDefault: true },
          201,
        );
        // START is Friday 27 November 2026, noon UTC: the first due time is 1 December 09:00.
        const book = await write<{ id: string; taskCheckId: string }>(t, "POST", "/api/v1/runbooks", {
          name: "monthly upgrades",
          schedule: { cron: "0 9 1 * *", tz: "UTC", graceSec: 86_400 },
          steps: [
            { kind: "manual", title: "Review pending updates", shows: ["updates"] },
            { kind: "manual", title: "Reboot if required", shows: ["reboot"] },
          ],
        });
        const task = await getCheck(t, book.taskCheckId);
        expect(task).toMatchObject({
          name: "Task: monthly upgrades",
          status: "up",
          nextDueAt: Date.UTC(2026, 11, 1, 9),
        });

        t.clock.set(Date.UTC(2026, 11, 1, 9, 1));
        await t.tick();
        expect((await getCheck(t, book.taskCheckId)).status).toBe("late");
        t.clock.set(Date.UTC(2026, 11, 2, 9, 1));
        await t.tick();
        expect((await getCheck(t, book.taskCheckId)).status).toBe("down");
        await t.tick();
        expect((await t.outside.mails()).map((m) => m.subject)).toEqual(["DOWN: Task: monthly upgrades"]);

        // Someone gets to it that afternoon.
        t.clock.set(Date.UTC(2026, 11, 2, 15));
        const run = await write<RunView>(t, "POST", `/api/v1/runbooks/${book.id}/runs`, {
          note: "December, late",
        });
        expect(run.status).toBe("waiting");
        await write(
          t,
          "POST",
          `/api/v1/runbook-runs/${run.id}/steps/0/complete`,
          { note: "12 pending, 3 security" },
          200,
        );
        const done = await write<RunView>(
          t,
          "POST",
          `/api/v1/runbook-runs/${run.id}/steps/1/complete`,
          {},
          200,
        );
        expect(done.status).toBe("succeeded");
        expect(done.steps.map((s) => [s.status, s.note])).toEqual([
          ["done", "12 pending, 3 security"],
          ["done", null],
        ]);
        const reset = await getCheck(t, book.taskCheckId);
        expect(reset.status).toBe("up");
        expect(reset.nextDueAt).toBe(Date.UTC(2027, 0, 1, 9));
        await t.tick();
        expect((await t.outside.mails()).map((m) => m.subject)).toEqual([
          "DOWN: Task: monthly upgrades",
          "UP: Task: monthly upgrades",
        ]);
        const runs = await read<{ runs: RunView[] }>(t, `/api/v1/runbooks/${book.id}/runs`);
        expect(runs.runs.map((r) => r.status)).toEqual(["succeeded"]);
      },
    },
    {
      name: "a task's check goes with its schedule: removed when the schedule is, and with the runbook",
      run: async (t) => {
        const book = await write<{ id: string; taskCheckId: string }>(t, "POST", "/api/v1/runbooks", {
          name: "docker cleanup",
          schedule: { cron: "0 4 * * 0" },
          steps: [{ kind: "manual", title: "prune" }],
        });
        expect((await getCheck(t, book.taskCheckId)).name).toBe("Task: docker cleanup");
        const plain = await write<{ taskCheckId: string | null }>(
          t,
          "PATCH",
          `/api/v1/runbooks/${book.id}`,
          { schedule: null },
          200,
        );
        expect(plain.taskCheckId).toBeNull();
        expect(
          (
            await t.request(`/api/v1/checks/${book.taskCheckId}`, {
              headers: { authorization: `Bearer ${t.adminKey}` },
            })
          ).status,
        ).toBe(404);
        const again = await write<{ taskCheckId: string }>(
          t,
          "PATCH",
          `/api/v1/runbooks/${book.id}`,
          { schedule: { cron: "0 4 * * 0" } },
          200,
        );
        await write(t, "DELETE", `/api/v1/runbooks/${book.id}`, undefined, 204);
        expect(
          (
            await t.request(`/api/v1/checks/${again.taskCheckId}`, {
              headers: { authorization: `Bearer ${t.adminKey}` },
            })
          ).status,
        ).toBe(404);
      },
    },
  ]),
];
