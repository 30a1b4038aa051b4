import type { Diagnostics } from '../diagnostics.js';
import { KilnError } from '../errors.js';
import { didYouMean } from './closest.js';
import { isPlainObject } from './node-config.js';
import type { YamlFile } from './yaml-file.js';

/** The loaders stage/ has: the one list, checked here at compile; stage/source-options.ts turns each into its typed table. */
export const SOURCE_LOADERS = ['csv', 'jsonl', 'mysql'] as const;
/** `freshness` periods (dbt's, without `week`); a trailing `s` is allowed. */
export const FRESHNESS_PERIODS: readonly string[] = ['minute', 'hour', 'day'];

/**
 * The enumerations of a source or source table (`loader`, freshness `period`), checked at
 * compile so a typo is exit 2 with its line instead of passing `compile` and failing `stage`
 * (or a freshness rule silently never applying). Values still holding a template are left to stage.
 */
export function checkSourceEnums(yaml: YamlFile, path: ReadonlyArray<string | number>, raw: Readonly<Record<string, unknown>>, label: string, diagnostics: Diagnostics): void {
  const at = (...rest: Array<string | number>) => ({ file: yaml.file, line: yaml.keyLineOf([...path, ...rest]) });
  const templated = (v: unknown) => typeof v === 'string' && v.includes('{{');
  const loader = raw.loader;
  // dbt's `loader:` names the tool that fills a table (fivetran, airbyte): not kiln's to run.
  // Only a near miss of kiln's own loaders (cvs, json) is a typo worth stopping for.
  if (loader !== undefined && !templated(loader) && !(typeof loader === 'string' && (SOURCE_LOADERS as readonly string[]).includes(loader)) && didYouMean(String(loader), SOURCE_LOADERS) !== undefined) {
    diagnostics.error(
      new KilnError('CONFIG_INVALID', `${label}: unknown loader '${String(loader)}'`, {
        location: at('loader'),
        hint: didYouMean(String(loader), SOURCE_LOADERS) ?? `use one of ${SOURCE_LOADERS.join(', ')}`,
      }),
    );
  }
  const freshness = raw.freshness;
  if (!isPlainObject(freshness)) return;
  for (const key of ['warn_after', 'error_after'] as const) {
    const rule = freshness[key];
    if (rule === undefined || rule === null) continue;
    const period = isPlainObject(rule) ? rule.period : undefined;
    const count = isPlainObject(rule) ? rule.count : undefined;
    if (templated(period) || templated(count)) continue;
    const bare = String(period ?? '').replace(/s$/, '');
    if (!FRESHNESS_PERIODS.includes(bare)) {
      diagnostics.error(
        new KilnError('CONFIG_INVALID', `${label}: freshness ${key} period '${String(period ?? '')}' is not one of ${FRESHNESS_PERIODS.join(', ')}`, {
          location: at('freshness', key, ...(isPlainObject(rule) && 'period' in rule ? ['period'] : [])),
          hint: didYouMean(bare, FRESHNESS_PERIODS) ?? `write it like ${key}: { count: 12, period: hour }`,
        }),
      );
    }
    if (!(Number(count) > 0)) {
      diagnostics.error(
        new KilnError('CONFIG_INVALID', `${label}: freshness ${key} count '${String(count ?? '')}' is not a positive number`, {
          location: at('freshness', key),
          hint: `write it like ${key}: { count: 12, period: hour }`,
        }),
      );
    }
  }
}
