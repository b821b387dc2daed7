// Reads of a case's personal content (special categories, narratives, survey answers) are
// facts in the event log: who, which case, which fields, when. Resolvers note each read
// in the request's recorder; the transport appends them, one event per case and request,
// in one batch after the response is computed and before it is sent. If that append
// fails the response is replaced by an error: the data never leaves unrecorded.
import { Audience, caseParties } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { fact, type CommandExecutor } from '../../events/executor.ts';
import type { CaseParties, PersonalDataReads, PersonalField } from '../cases/case.sealing.ts';

export const PERSONAL_DATA_READ = 'PersonalDataRead';
/** What such reads were called when only special categories were audited (older entries of the log). */
export const SPECIAL_CATEGORY_READ = 'SpecialCategoryRead';
export const READ_TYPES: readonly string[] = [PERSONAL_DATA_READ, SPECIAL_CATEGORY_READ];

type Read = { caseId: string; audience: string[]; fields: Set<PersonalField> };

export class AccessRecorder implements PersonalDataReads {
  private reads = new Map<string, Read>();

  constructor(
    private readonly executor: CommandExecutor,
    private readonly principal: Principal | null,
    /** Where the read happened, for the trail: `graphql:<request id>` or `subscription:<operation>`. */
    private readonly via: string,
  ) {}

  /** Notes that the caller was given a personal field of a case. */
  read(kase: CaseParties, field: PersonalField): void {
    const entry = this.reads.get(kase._id) ?? {
      caseId: kase._id,
      audience: caseParties(kase).map(Audience.auditOnly),
      fields: new Set<PersonalField>(),
    };
    entry.fields.add(field);
    this.reads.set(kase._id, entry);
  }

  get pending(): number {
    return this.reads.size;
  }

  /** Appends the noted reads (one event per case) and forgets them. */
  async flush(): Promise<void> {
    if (this.reads.size === 0 || !this.principal) return;
    const reads = [...this.reads.values()];
    this.reads = new Map();
    const facts = reads.map((r) =>
      fact({
        aggregateType: 'access',
        type: PERSONAL_DATA_READ,
        caseId: r.caseId,
        audience: r.audience,
        data: { fields: [...r.fields].sort(), via: this.via },
      }),
    );
    await this.executor.recordFacts(this.principal, facts);
  }
}
