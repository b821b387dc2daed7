// The sustainability survey: its definition (config/sustainability-survey.yaml) and the
// scoring of one set of answers into a score per dimension and a weighted composite.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { z } from 'zod';
import { badInput, type FieldProblem } from '../../errors.ts';
import type { SustainabilityScores } from '../cases/case.model.ts';

export const DIMENSIONS = ['ECONOMIC', 'SOCIAL', 'PSYCHOSOCIAL'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

const code = z.string().regex(/^[A-Z][A-Z0-9_]{0,39}$/, 'CAPITALS_AND_DIGITS');
const weight = z.number().positive();

const definitionFile = z
  .object({
    version: z.string().min(1).max(40),
    name: z.string().min(1),
    dimensions: z.array(z.object({ code: z.enum(DIMENSIONS), name: z.string().min(1), weight })).length(DIMENSIONS.length),
    indicators: z
      .array(
        z.object({
          code,
          dimension: z.enum(DIMENSIONS),
          weight,
          question: z.string().min(1),
          answers: z.array(z.object({ code, label: z.string().min(1), score: z.number().min(0).max(1).nullable() })).min(2),
        }),
      )
      .min(DIMENSIONS.length),
  })
  .superRefine((d, ctx) => {
    if (new Set(d.dimensions.map((x) => x.code)).size !== DIMENSIONS.length)
      ctx.addIssue({ code: 'custom', path: ['dimensions'], message: 'each dimension exactly once' });
    if (new Set(d.indicators.map((i) => i.code)).size !== d.indicators.length)
      ctx.addIssue({ code: 'custom', path: ['indicators'], message: 'indicator codes must be unique' });
    for (const dim of DIMENSIONS) {
      if (!d.indicators.some((i) => i.dimension === dim && i.answers.some((a) => a.score !== null)))
        ctx.addIssue({ code: 'custom', path: ['indicators'], message: `no scored indicator for ${dim}` });
    }
    d.indicators.forEach((i, n) => {
      if (new Set(i.answers.map((a) => a.code)).size !== i.answers.length)
        ctx.addIssue({ code: 'custom', path: ['indicators', n, 'answers'], message: 'answer codes must be unique' });
    });
  });

export type SurveyDefinition = z.infer<typeof definitionFile>;
export type ScoredAnswer = { indicator: string; dimension: Dimension; answer: string; score: number | null };

export const SURVEY_FILE = fileURLToPath(new URL('../../../config/sustainability-survey.yaml', import.meta.url));

export function loadSurveyDefinition(file = SURVEY_FILE): SurveyDefinition {
  return definitionFile.parse(YAML.parse(readFileSync(file, 'utf8')));
}

/** Scores are kept to four decimals: enough to rank and compare, no floating-point noise. */
const round = (x: number) => Math.round(x * 10_000) / 10_000;

function weightedMean(pairs: { value: number; weight: number }[]): number | null {
  const total = pairs.reduce((sum, p) => sum + p.weight, 0);
  return total === 0 ? null : pairs.reduce((sum, p) => sum + p.value * p.weight, 0) / total;
}

/**
 * Scores one survey. Every indicator is answered exactly once with one of its answer
 * codes; BAD_USER_INPUT lists every problem at once. A dimension whose indicators all
 * answer "not applicable" cannot be scored and is refused too.
 */
export function scoreSurvey(
  definition: SurveyDefinition,
  given: readonly { indicator: string; answer: string }[],
): { answers: ScoredAnswer[]; scores: SustainabilityScores } {
  const problems: FieldProblem[] = [];
  const byIndicator = new Map<string, string>();
  given.forEach((a, n) => {
    if (byIndicator.has(a.indicator)) problems.push({ path: `answers.${n}.indicator`, message: `${a.indicator} answered twice` });
    byIndicator.set(a.indicator, a.answer);
    if (!definition.indicators.some((i) => i.code === a.indicator))
      problems.push({ path: `answers.${n}.indicator`, message: `no indicator ${a.indicator}` });
  });
  const answers: ScoredAnswer[] = [];
  for (const indicator of definition.indicators) {
    const answer = byIndicator.get(indicator.code);
    if (answer === undefined) {
      problems.push({ path: 'answers', message: `${indicator.code} is not answered` });
      continue;
    }
    const option = indicator.answers.find((a) => a.code === answer);
    if (!option) {
      problems.push({
        path: 'answers',
        message: `${indicator.code}: ${answer} is not one of ${indicator.answers.map((a) => a.code).join(', ')}`,
      });
      continue;
    }
    answers.push({ indicator: indicator.code, dimension: indicator.dimension, answer, score: option.score });
  }
  const dimensionScores = new Map<Dimension, number>();
  if (problems.length === 0) {
    for (const dim of DIMENSIONS) {
      const mean = weightedMean(
        answers
          .filter((a) => a.dimension === dim && a.score !== null)
          .map((a) => ({ value: a.score!, weight: definition.indicators.find((i) => i.code === a.indicator)!.weight })),
      );
      if (mean === null) problems.push({ path: 'answers', message: `no ${dim} indicator applies, so ${dim} cannot be scored` });
      else dimensionScores.set(dim, mean);
    }
  }
  if (problems.length > 0) {
    throw badInput(`The survey answers are incomplete or invalid: ${problems.map((p) => p.message).join('; ')}`, problems);
  }
  const composite = weightedMean(definition.dimensions.map((d) => ({ value: dimensionScores.get(d.code)!, weight: d.weight })))!;
  return {
    answers,
    scores: {
      economic: round(dimensionScores.get('ECONOMIC')!),
      social: round(dimensionScores.get('SOCIAL')!),
      psychosocial: round(dimensionScores.get('PSYCHOSOCIAL')!),
      composite: round(composite),
    },
  };
}
