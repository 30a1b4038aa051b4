import { randomUUID } from 'node:crypto';
import { Adapter } from '../adapters/adapter.js';
import { currentHolder } from '../adapters/lock-holder.js';
import { describeQuery, queryRows, quarantineCounts, readBookkeepingRows, readCatalogRows, stagingTables } from '../adapters/catalog-sql.js';
import { KilnError } from '../errors.js';
import type { TargetConfig } from '../project/types.js';
import { buildCatalog, catalogDatabases, type Catalog } from './catalog.js';
import { chooseChart, inferColumns, type ResultColumn } from './chart-spec.js';
import { chartMetaOf, dashboardModels, type DashboardCapture } from './docs-data.js';
import type { ManifestArtifact } from './docs-artifacts.js';
import { summarizeLedger, type LoadSummary } from './ledger-summary.js';

/**
 * What the docs site reads from the warehouse at generate time: the catalog, the staging ledger
 * and the dashboard models' rows. The warehouse is opened briefly and closed again (the embedded
 * engine allows one process per data folder). Nothing here is fatal: an unreachable warehouse or
 * a failing query becomes a warning or an error shown in place, and the site is still written.
 */

export interface WarehouseCapture {
  readonly catalog: Catalog | null;
  readonly catalogMessage: string | null;
  readonly loads: Map<string, LoadSummary> | null;
  readonly quarantined: Map<string, number> | null;
  readonly dashboards: DashboardCapture[];
  readonly warnings: string[];
}

export const DASHBOARD_ROW_LIMIT = 1000;

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 500);

export async function captureWarehouse(
  target: TargetConfig,
  manifest: ManifestArtifact,
  meta: { kilnVersion: string; generatedAt: string },
): Promise<WarehouseCapture> {
  const dashboards = dashboardModels(manifest);
  let adapter: Adapter;
  try {
    adapter = await Adapter.connect(target, { threads: 1, lockAs: currentHolder('docs generate', randomUUID()) });
  } catch (err) {
    const why = err instanceof KilnError ? err.message : messageOf(err);
    const message = `warehouse not reachable, catalog skipped: ${why}`;
    return {
      catalog: null,
      catalogMessage: message,
      loads: null,
      quarantined: null,
      dashboards: dashboards.map((d) => ({ id: d.unique_id, columns: [], rows: [], chart: null, error: `not captured: ${why}` })),
      warnings: [message],
    };
  }
  const warnings: string[] = [];
  try {
    let catalog: Catalog | null = null;
    let catalogMessage: string | null = null;
    try {
      catalog = buildCatalog(manifest, await readCatalogRows(adapter, catalogDatabases(manifest)), meta);
    } catch (err) {
      catalogMessage = `catalog skipped: ${messageOf(err)}`;
      warnings.push(catalogMessage);
    }
    const { loads, quarantined } = await captureStaging(adapter, target.raw_database, warnings);
    const captured: DashboardCapture[] = [];
    for (const d of dashboards) captured.push(await captureDashboard(adapter, d.unique_id, d.compiled_code ?? '', chartMetaOf(d)));
    return { catalog, catalogMessage, loads, quarantined, dashboards: captured, warnings };
  } finally {
    await adapter.close();
  }
}

async function captureStaging(adapter: Adapter, rawDatabase: string, warnings: string[]): Promise<Pick<WarehouseCapture, 'loads' | 'quarantined'>> {
  try {
    const tables = await stagingTables(adapter, rawDatabase);
    const ledger = tables.find((t) => /^_kiln_loads?$|^_kiln_load_ledger$|^_kiln_ledger$/.test(t));
    const quarantine = tables.find((t) => t === '_kiln_quarantine');
    const loads = ledger ? summarizeLedger(await readBookkeepingRows(adapter, rawDatabase, ledger)) : null;
    const quarantined = quarantine
      ? new Map((await quarantineCounts(adapter, rawDatabase, quarantine)).map((q) => [`${q.source_name}.${q.table_name}`, q.n]))
      : null;
    return { loads, quarantined };
  } catch (err) {
    warnings.push(`staging ledger not read: ${messageOf(err)}`);
    return { loads: null, quarantined: null };
  }
}

export async function captureDashboard(adapter: Adapter, id: string, sql: string, chartMeta: unknown): Promise<DashboardCapture> {
  try {
    const rows = await queryRows(adapter, sql, DASHBOARD_ROW_LIMIT);
    let columns: ResultColumn[];
    try {
      columns = await describeQuery(adapter, sql);
    } catch {
      columns = inferColumns(rows);
    }
    return { id, columns, rows, chart: chooseChart(columns, rows, chartMeta), error: null };
  } catch (err) {
    return { id, columns: [], rows: [], chart: null, error: messageOf(err) };
  }
}
