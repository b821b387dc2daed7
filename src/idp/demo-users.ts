// The development identity provider's people: one per demo organisation and role it may hold,
// named `<organisation>-<role>` in lower case (e.g. `p-af-hope-officer`), all with one demo
// password. Never used in production: the provider itself is only mounted outside it.
import { ROLES_BY_KIND, type OrganisationKind, type Role } from '../auth/principal.ts';
import { readDemoNetwork } from '../seed/demo.ts';

export const DEMO_PASSWORD = 'erin-demo';

export type DemoUser = {
  username: string;
  /** The token's `sub`. */
  subject: string;
  name: string;
  organisation: { code: string; name: string; kind: OrganisationKind };
  roles: Role[];
};

const SHORT: Record<Role, string> = {
  caseworker: 'caseworker',
  coordinator: 'coordinator',
  'partner-officer': 'officer',
  'reg-analyst': 'analyst',
  'network-admin': 'admin',
  'return-counsellor': 'counsellor',
  'data-protection-officer': 'dpo',
  researcher: 'researcher',
  'municipal-officer': 'officer',
  'agency-officer': 'officer',
  'ngo-worker': 'worker',
};

export function demoUsers(): DemoUser[] {
  return readDemoNetwork().organisations.flatMap((org) =>
    ROLES_BY_KIND[org.kind].map((role) => {
      const username = `${org.code.toLowerCase()}-${SHORT[role]}`;
      return {
        username,
        subject: `demo-${username}`,
        name: `${org.name} ${role}`,
        organisation: { code: org.code, name: org.name, kind: org.kind },
        roles: [role],
      };
    }),
  );
}
