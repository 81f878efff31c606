/**
 * The invitations waiting for the signed-in person (settings). The other configuration routes are
 * behaviour cases (test/behaviour/configure-routes.cases.ts).
 */
import { errorBodySchema, pendingInvitationSchema } from "@vigil/contract";
import { invitation } from "@vigil/db";
import { describe, expect, it } from "vitest";
import { accountsApp, inviteMember, setUpOwner, signUpAndIn } from "./accounts-helpers.ts";

describe("the signed-in person's own invitations", () => {
  it("lists what waits for their address, with the organisation and inviter, until they accept", async () => {
    const env = await accountsApp({ mail: false, config: { signUpMode: "open" } });
    const { owner, organizationId } = await setUpOwner(env);
    const invited = await owner.json<{ invitation: { id: string } }>(
      `/api/v1/orgs/${organizationId}/invitations`,
      { body: { email: "bo@example.com", role: "viewer" } },
    );
    expect(invited.status).toBe(201);
    const { person: bo } = await signUpAndIn(env, "bo@example.com");

    const waiting = await bo.json<{ invitations: unknown[] }>("/api/v1/me/invitations");
    expect(waiting.status).toBe(200);
    expect(waiting.body.invitations.map((i) => pendingInvitationSchema.parse(i))).toEqual([
      {
        id: invited.body.invitation.id,
        organizationId,
        organizationName: "Acme",
        role: "viewer",
        inviterEmail: "owner@example.com",
        expiresAt: expect.any(Number),
      },
    ]);
    // Nobody else sees it: not the inviter, not another person.
    expect((await owner.json<{ invitations: unknown[] }>("/api/v1/me/invitations")).body.invitations).toEqual(
      [],
    );
    const { person: carol } = await signUpAndIn(env, "carol@example.com");
    expect((await carol.json<{ invitations: unknown[] }>("/api/v1/me/invitations")).body.invitations).toEqual(
      [],
    );

    const accepted = await bo.json("/api/auth/organization/accept-invitation", {
      body: { invitationId: invited.body.invitation.id },
    });
    expect(accepted.status).toBe(200);
    expect((await bo.json<{ invitations: unknown[] }>("/api/v1/me/invitations")).body.invitations).toEqual(
      [],
    );
  });

  it("leaves out expired invitations", async () => {
    const env = await accountsApp({ mail: false, config: { signUpMode: "open" } });
    const { owner, organizationId } = await setUpOwner(env);
    await inviteMember(env, owner, organizationId, "ada@example.com", "admin");
    await owner.json(`/api/v1/orgs/${organizationId}/invitations`, {
      body: { email: "late@example.com", role: "member" },
    });
    await env.deps.db.update(invitation).set({ expiresAt: new Date(env.clock.now() - 1) });
    const { person: late } = await signUpAndIn(env, "late@example.com");
    expect((await late.json<{ invitations: unknown[] }>("/api/v1/me/invitations")).body.invitations).toEqual(
      [],
    );
  });

  it("answers 401 in the error shape to someone signed out", async () => {
    const env = await accountsApp({ mail: false });
    const res = await env.browser().json("/api/v1/me/invitations");
    expect(res.status).toBe(401);
    expect(errorBodySchema.parse(res.body).error.code).toBe("UNAUTHORIZED");
  });
});
