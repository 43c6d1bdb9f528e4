/**
 * What a worker's planner knows beyond the alert: the KEV catalog (PATCHWAVE_KEV_PATH or the shipped
 * snapshot), optional EPSS scores (PATCHWAVE_EPSS_PATH) and the clock, read at the edge.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEpssCsv } from '../domain/enrichment/epss';
import { parseKevCatalogText } from '../domain/enrichment/kev';
import type { PlanningContext } from '../domain/ranking/context';
import { resolveKevPath } from './kev-path';

export function loadPlanningContext(say: (message: string) => void = (m) => console.error(m), env: Record<string, string | undefined> = process.env): PlanningContext {
  const context: PlanningContext = { now: () => new Date() };
  const kevPath = resolveKevPath(env);
  if (existsSync(kevPath)) context.kev = parseKevCatalogText(readFileSync(kevPath, 'utf8'), kevPath);
  else say(`patchwave: no KEV catalog at ${kevPath}; exploitation evidence comes from alerts only (refresh with \`patchwave kev refresh\`)`);
  const epssPath = env.PATCHWAVE_EPSS_PATH;
  if (epssPath) context.epss = parseEpssCsv(readFileSync(epssPath, 'utf8'), epssPath);
  return context;
}
