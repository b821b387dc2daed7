// Reads of special-category data are facts in the event log. Resolvers note each read
// in the request's recorder; the transport appends them, one event per case and request,
// in one batch after the response is computed and before it is sent. If that append
// fails the response is replaced by an error: the data never leaves unrecorded.
import { Audience, caseParties } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { fact, type CommandExecutor } from '../../events/executor.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import type { SpecialCategoryField, SpecialCategoryReads } from '../cases/case.sealing.ts';

export const SPECIAL_CATEGORY_READ = 'SpecialCategoryRead';

type Read = { caseId: string; audience: string[]; fields: Set<SpecialCategoryField> };

export class AccessRecorder implements SpecialCategoryReads {
  private reads = new Map<string, Read>();

  constructor(
    private readonly executor: CommandExecutor,
    private readonly principal: Principal | null,
    /** Where the read happened, for the trail: `graphql:<request id>` or `subscription:<operation>`. */
    private readonly via: string,
  ) {}

  /** Notes that the caller was given a special-category field of a case. */
  read(
    kase: Pick<CaseDoc, '_id' | 'memberState' | 'partner' | 'sharedWithPartner' | 'units'>,
    field: SpecialCategoryField,
  ): void {
    const entry = this.reads.get(kase._id) ?? {
      caseId: kase._id,
      audience: caseParties(kase).map(Audience.auditOnly),
      fields: new Set<SpecialCategoryField>(),
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
        type: SPECIAL_CATEGORY_READ,
        caseId: r.caseId,
        audience: r.audience,
        data: { fields: [...r.fields].sort(), via: this.via },
      }),
    );
    await this.executor.recordFacts(this.principal, facts);
  }
}
