export { isAPIError } from "better-auth/api";
export {
  type Actor,
  AUDIT_RETENTION_MS,
  type AuditEntry,
  type AuditPage,
  listOrganizationAudit,
  pruneAudit,
  type RequestOrigin,
  recordAudit,
  recordProjectAudit,
  toAuditEntry,
} from "./audit.ts";
export {
  type AccountMail,
  type AccountMailer,
  AUTH_RATE_LIMITS,
  type Auth,
  type AuthSettings,
  CLIENT_IP_HEADER,
  createAuth,
  INVITATION_TTL_SEC,
  invitationUrl,
  type SignUpMode,
} from "./auth.ts";
export {
  createOrganization,
  createPersonalOrganization,
  deleteOrganization,
  listMembers,
  removeEmptyOrganizations,
  transferOwnership,
} from "./organizations.ts";
export {
  adoptUnownedProjects,
  createOrganizationProject,
  listMemberships,
  markProjectDeleted,
  type OrganizationWithProjects,
  organizationRole,
  type ProjectMembership,
  projectMembership,
  purgeDeletedProjects,
  renameProject,
} from "./projects.ts";
export {
  consumeRate,
  pruneRateLimits,
  type RateCount,
  type RateRule,
  type RateVerdict,
} from "./rate-limit.ts";
export { isRole, ROLES, type Role, scopesOfRole } from "./roles.ts";
export {
  completeSetup,
  hasAnyUser,
  issueSetupToken,
  type SetupInput,
  setupTokenValid,
  setupUrl,
} from "./setup.ts";
