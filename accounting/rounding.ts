/**
 * The one rounding rule of the accounts, applied by the totals module (totals.ts) and the budget's
 * progress, so the summary, the monthly report, the budget and the CLI show the same digits for the
 * same rows:
 *
 * - a ledger row keeps its numbers to 1e-9 (`roundRow`): rows are stored in rollups and compared
 *   between revisions at that precision, and sums of them stay exact far below what is shown;
 * - a total or a figure derived from totals is rounded once, when final (`roundFigure`): tonnes (CO2e
 *   and CH4) to the gram (6 decimals), energy to the watt-hour (kWh, 3 decimals), a percentage or a
 *   share to 6 decimals (a metered sector's share of its cap is tiny).
 *
 * Views format for display only and never round again before computing.
 */
const DECIMALS = { t: 6, kWh: 3, ratio: 6 } as const;
export type FigureUnit = keyof typeof DECIMALS;

const round = (x: number, decimals: number) => Math.round(x * 10 ** decimals) / 10 ** decimals;

/** A ledger row's number, float noise removed. */
export function roundRow(x: number): number {
  return round(x, 9);
}

/** A final figure in its unit. */
export function roundFigure(x: number, unit: FigureUnit): number {
  return round(x, DECIMALS[unit]);
}
