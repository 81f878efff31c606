import type { ApiKeyScope } from "@vigil/contract";
import { createAccessControl } from "better-auth/plugins/access";
import { adminAc, defaultStatements, memberAc, ownerAc } from "better-auth/plugins/organization/access";

/**
 * Roles in an organisation. They map onto the same scopes API keys carry, so one check (`grants`) guards
 * every route whether a key or a person calls it:
 * - owner: everything, including deleting the organisation and handing ownership over;
 * - admin: everything in its projects, members and invites included;
 * - member: writes checks, rules, channels, status pages and silences; reads everything else;
 * - viewer: reads.
 */
export const ROLES = ["owner", "admin", "member", "viewer"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

const SCOPES_OF_ROLE: Record<Role, ApiKeyScope[]> = {
  owner: ["admin"],
  admin: ["admin"],
  member: ["write"],
  viewer: ["read"],
};

/** The scopes a role carries; an unknown role (a row written by hand) carries nothing. */
export function scopesOfRole(role: string): ApiKeyScope[] {
  return isRole(role) ? SCOPES_OF_ROLE[role] : [];
}

/** better-auth's organisation permissions for the four roles (who may invite, change roles, delete). */
const ac = createAccessControl(defaultStatements);
export const organizationAccess = {
  ac,
  roles: {
    owner: ac.newRole(ownerAc.statements),
    admin: ac.newRole(adminAc.statements),
    member: ac.newRole(memberAc.statements),
    viewer: ac.newRole({}),
  },
};
