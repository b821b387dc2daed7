import { writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DIMENSIONS, type Dimension, type StatisticsCellView } from '../modules/statistics/statistics.cells.ts';
import type { StatisticsTable } from '../modules/statistics/statistics.service.ts';
import { cliPrincipal, withServices } from './runtime.ts';

const ALIASES: Record<string, Dimension> = {
  'member-state': 'MEMBER_STATE',
  state: 'MEMBER_STATE',
  origin: 'ORIGIN_COUNTRY',
  'origin-country': 'ORIGIN_COUNTRY',
  programme: 'PROGRAMME',
  component: 'COMPONENT_KIND',
  'component-kind': 'COMPONENT_KIND',
  status: 'STATUS',
  closure: 'CLOSURE_REASON',
  'closure-reason': 'CLOSURE_REASON',
  quarter: 'QUARTER',
};

function dimensions(value: string): Dimension[] {
  return value.split(',').map((raw) => {
    const name = raw.trim().toLowerCase();
    const dimension = ALIASES[name] ?? DIMENSIONS.find((d) => d === raw.trim().toUpperCase().replace(/-/g, '_'));
    if (!dimension) throw new InvalidArgumentError(`unknown dimension ${raw}; use ${Object.keys(ALIASES).join(', ')}`);
    return dimension;
  });
}

const list = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

const columnOf = (d: Dimension) => d.toLowerCase();
const euros = (minor: number) => (minor / 100).toFixed(2);

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function toCsv(table: StatisticsTable): string {
  const header = [
    ...table.groupBy.map(columnOf),
    'case_count',
    'persons',
    'planned_eur',
    'actual_eur',
    'mean_economic',
    'mean_social',
    'mean_psychosocial',
    'mean_composite',
  ];
  const row = (cell: StatisticsCellView) => {
    const at = (d: Dimension) => cell.coordinates.find((c) => c.dimension === d)?.value ?? 'TOTAL';
    const figure = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
    return [
      ...table.groupBy.map(at),
      figure(cell.caseCount),
      figure(cell.persons),
      euros(cell.plannedEur.amount),
      euros(cell.actualEur.amount),
      figure(cell.meanScores?.economic),
      figure(cell.meanScores?.social),
      figure(cell.meanScores?.psychosocial),
      figure(cell.meanScores?.composite),
    ]
      .map(csvField)
      .join(',');
  };
  return `${[header.join(','), ...table.cells.map(row), ...table.totals.map(row)].join('\n')}\n`;
}

export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description(
      'Export statistics for the Return Experts Group, protected by the cell key method like the API’s, charged to your budget and recorded as an export.',
    )
    .requiredOption('--group-by <dimensions>', `comma-separated: ${Object.keys(ALIASES).join(', ')}`, dimensions)
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('--member-state <codes>', 'only these member states, e.g. NL,BE', list)
    .option('--origin <codes>', 'only these countries of origin, e.g. AF,IQ', list)
    .option('--programme <codes>', 'only these programmes', list)
    .option('--status <statuses>', 'only cases in these statuses, e.g. CLOSED', list)
    .option('--from <quarter>', 'first quarter, e.g. 2026-Q1')
    .option('--to <quarter>', 'last quarter, e.g. 2026-Q4')
    .option('--out <file>', 'write to a file instead of standard output')
    .addHelpText(
      'after',
      '\nEvery figure is protected as in the API (docs/statistics.md): counts carry a small noise that is the same\n' +
        'whenever the same cases are counted, EUR sums a noise proportional to their largest contributions, and only\n' +
        'cells whose protected count reaches the threshold (ERIN_STATS_MIN_CELL, default 5) are listed; --format json\n' +
        'includes the method’s parameters. Each run costs one table of the budget of cli:<your login>\n' +
        '(ERIN_STATS_BUDGET per ERIN_STATS_BUDGET_PERIOD).\n' +
        'Uses MONGODB_URI, or the embedded store under ERIN_DATA_DIR.\n\n' +
        'Example:\n  npx erin stats --group-by origin,quarter --format csv --from 2026-Q1 > reg-2026.csv',
    )
    .action(
      async (options: {
        groupBy: Dimension[];
        format: 'csv' | 'json';
        memberState?: string[];
        origin?: string[];
        programme?: string[];
        status?: string[];
        from?: string;
        to?: string;
        out?: string;
      }) => {
        const table = await withServices((services) =>
          services.statistics.table(
            cliPrincipal(),
            {
              groupBy: options.groupBy,
              filter: {
                memberStates: options.memberState ?? null,
                originCountries: options.origin ?? null,
                programmes: options.programme ?? null,
                statuses: (options.status as never) ?? null,
                quarterFrom: options.from ?? null,
                quarterTo: options.to ?? null,
              },
            },
            { channel: 'cli' },
          ),
        );
        const text = options.format === 'json' ? `${JSON.stringify(table, null, 2)}\n` : toCsv(table);
        if (options.out) writeFileSync(options.out, text);
        else process.stdout.write(text);
      },
    );
}
