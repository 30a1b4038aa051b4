import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { KilnError, type SourceLocation, type Warning } from '../errors.js';
import { didYouMean } from './closest.js';
import { isPlainObject } from './node-config.js';
import type { ProjectFiles } from './project-files.js';
import { parseYaml, type YamlFile } from './yaml-file.js';
import { renderYamlValue, type VarScope } from './yaml-strings.js';

export const PROFILES_FILE = 'profiles.yml';

/** A dbt profile's outputs, as kiln targets want them (kiln's own target keys, strings not yet rendered). */
export interface ProfileTargets {
  readonly file: string;
  readonly profile: string;
  /** The profile's `target:`, the one used without --target. */
  readonly defaultTarget: string;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly yaml: YamlFile;
}

/** dbt-clickhouse's output keys kiln has no use for (the HTTP client's own retries, native-protocol tuning, …). */
const IGNORED_OUTPUT_KEYS = [
  'driver', 'verify', 'client_cert', 'client_cert_key', 'retries', 'compression', 'connect_timeout', 'send_receive_timeout',
  'sync_request_timeout', 'compress_block_size', 'use_lw_deletes', 'check_exchange', 'allow_automatic_deduplication',
  'tcp_keepalive', 'query_limit', 'use_default_schema', 'http_headers', 'keepalive_timeout',
];
/**
 * dbt-clickhouse's cluster keys: `cluster` becomes the target's; `cluster_mode` (its settings for
 * Replicated databases, ClickHouse Cloud's case) becomes `replicated: true` on a target without a
 * cluster; `database_engine`, `local_suffix` and `local_db_prefix` kiln does not apply (it creates
 * databases with the server's default engine and a distributed model's shards' table as
 * `<name>_local` beside it), so a value that would differ is noted with a warning.
 */
const CLUSTER_OUTPUT_KEYS = ['cluster', 'cluster_mode', 'database_engine', 'local_suffix', 'local_db_prefix'];
/** kiln's own cluster target keys, taken as they are when a profile's output has them. */
const KILN_CLUSTER_KEYS = ['replicated', 'zookeeper_path', 'replica_name', 'sharding_key'] as const;
/** dbt-clickhouse output keys kiln reads, and what they become. */
const OUTPUT_KEYS = ['type', 'host', 'port', 'user', 'password', 'secure', 'schema', 'custom_settings', 'threads', 'database', ...CLUSTER_OUTPUT_KEYS, ...KILN_CLUSTER_KEYS];

/**
 * Where dbt looks for profiles.yml, first found wins: `--profiles-dir`, `DBT_PROFILES_DIR`, the
 * project folder, `~/.dbt/`. Read through `files` (a path relative to the project), so compile
 * reuse sees a changed profile.
 */
export function findProfiles(files: ProjectFiles, profile: string, opts: { readonly profilesDir?: string; readonly env: VarScope['env'] }): ProfileTargets | undefined {
  const dirs: Array<{ dir: string; from: string }> = [];
  if (opts.profilesDir) dirs.push({ dir: opts.profilesDir, from: '--profiles-dir' });
  if (opts.env.DBT_PROFILES_DIR) dirs.push({ dir: opts.env.DBT_PROFILES_DIR, from: 'DBT_PROFILES_DIR' });
  dirs.push({ dir: files.root, from: 'the project folder' });
  dirs.push({ dir: join(opts.env.HOME || homedir(), '.dbt'), from: '~/.dbt' });
  for (const { dir, from } of dirs) {
    const abs = resolve(files.root, dir, PROFILES_FILE);
    const rel = relative(files.root, abs).split('\\').join('/');
    if (!files.exists(rel)) {
      if (from === '--profiles-dir' || from === 'DBT_PROFILES_DIR') {
        throw new KilnError('TARGET_INVALID', `no ${PROFILES_FILE} in ${resolve(files.root, dir)} (from ${from})`, { hint: `point ${from} at the folder that holds ${PROFILES_FILE}` });
      }
      continue;
    }
    const display = rel.startsWith('..') || isAbsolute(rel) ? abs : rel;
    const yaml = parseYaml(files.read(rel), display);
    const data = yaml.data;
    const entry = isPlainObject(data) ? data[profile] : undefined;
    if (!isPlainObject(entry)) {
      const names = isPlainObject(data) ? Object.keys(data).filter((k) => k !== 'config') : [];
      throw new KilnError('TARGET_INVALID', `${display} has no profile '${profile}'`, {
        location: { file: display, line: 1 },
        hint: didYouMean(profile, names) ?? `profiles there: ${names.join(', ') || '(none)'}; dbt_project.yml's profile: names one`,
      });
    }
    const outputs = entry.outputs;
    if (!isPlainObject(outputs) || Object.keys(outputs).length === 0) {
      throw new KilnError('TARGET_INVALID', `profile '${profile}' has no outputs`, { location: { file: display, line: yaml.lineOf([profile]) } });
    }
    const defaultTarget = typeof entry.target === 'string' ? entry.target : Object.keys(outputs).includes('dev') ? 'dev' : Object.keys(outputs)[0]!;
    return { file: display, profile, defaultTarget, outputs, yaml };
  }
  return undefined;
}

/**
 * One output of a profile as a kiln target (kiln's target keys, rendered): `type: clickhouse`
 * only; schema → database, custom_settings → settings, the cluster keys as CLUSTER_OUTPUT_KEYS
 * says; a native-protocol port becomes the HTTP one (kiln speaks HTTP), with a warning. An
 * unknown key is a warning, never an error.
 */
export function targetOfProfileOutput(profiles: ProfileTargets, name: string, scope: VarScope, warnings: Warning[]): Record<string, unknown> {
  const raw = profiles.outputs[name];
  const where: SourceLocation = { file: profiles.file, line: profiles.yaml.lineOf([profiles.profile, 'outputs', name]) };
  if (!isPlainObject(raw)) {
    throw new KilnError('TARGET_INVALID', `unknown target '${name}' in profile '${profiles.profile}'`, {
      location: { file: profiles.file, line: profiles.yaml.lineOf([profiles.profile, 'outputs']) },
      hint: didYouMean(name, Object.keys(profiles.outputs)) ?? `outputs: ${Object.keys(profiles.outputs).join(', ')}; or --target embedded for the built-in local warehouse`,
    });
  }
  const r = renderYamlValue(raw, scope, where) as Record<string, unknown>;
  if (r.type !== 'clickhouse') {
    throw new KilnError('TARGET_INVALID', `target '${name}' of profile '${profiles.profile}' is type '${String(r.type)}'; kiln runs on ClickHouse`, {
      location: where,
      hint: '--target embedded builds into the built-in local warehouse; or add a type: clickhouse output',
    });
  }
  for (const key of Object.keys(r)) {
    if (OUTPUT_KEYS.includes(key) || IGNORED_OUTPUT_KEYS.includes(key)) continue;
    const hint = didYouMean(key, [...OUTPUT_KEYS, ...IGNORED_OUTPUT_KEYS]);
    warnings.push({ message: `unknown key '${key}' in output '${name}' of profile '${profiles.profile}' (ignored)`, location: { file: profiles.file, line: profiles.yaml.keyLineOf([profiles.profile, 'outputs', name, key]) }, ...(hint ? { hint } : {}), unknownKey: true });
  }
  const secure = r.secure === true || r.secure === 'true' || r.secure === 'True';
  let port = r.port === undefined || r.port === null || r.port === '' ? undefined : Number(r.port);
  if (port === 9000 || port === 9440 || r.driver === 'native') {
    warnings.push({ message: `output '${name}' of profile '${profiles.profile}' uses ClickHouse's native protocol; kiln connects over HTTP (port ${secure ? 8443 : 8123})`, location: where });
    port = undefined;
  }
  const settings = isPlainObject(r.custom_settings) ? r.custom_settings : undefined;
  const note = (key: string, message: string, hint: string) =>
    warnings.push({ message: `${key} of output '${name}' of profile '${profiles.profile}': ${message}`, location: { file: profiles.file, line: profiles.yaml.keyLineOf([profiles.profile, 'outputs', name, key]) }, hint });
  const truthy = (v: unknown) => v === true || v === 'true' || v === 'True';
  const cluster = typeof r.cluster === 'string' && r.cluster.trim() ? r.cluster.trim() : undefined;
  const kiln: Record<string, unknown> = {};
  for (const key of KILN_CLUSTER_KEYS) if (r[key] !== undefined && r[key] !== null && r[key] !== '') kiln[key] = key === 'replicated' ? truthy(r[key]) : r[key];
  if (truthy(r.cluster_mode)) {
    if (!cluster && kiln.replicated === undefined) kiln.replicated = true;
    else if (cluster) note('cluster_mode', 'ignored with a cluster (kiln runs structure statements ON CLUSTER and makes MergeTree tables Replicated)', 'remove cluster_mode, or cluster for a server that replicates by itself (ClickHouse Cloud)');
  }
  if (typeof r.database_engine === 'string' && r.database_engine.trim()) {
    note('database_engine', `'${r.database_engine.trim()}' is not applied: kiln creates databases with the server's default engine`, 'create the databases with that engine before the first run; kiln uses a database that exists as it is');
  }
  if (typeof r.local_suffix === 'string' && r.local_suffix !== '_local') {
    note('local_suffix', `'${r.local_suffix}' is not applied: a distributed model's shards' table is always <name>_local`, 'remove local_suffix (tables built by dbt-clickhouse with another suffix are rebuilt on the next full refresh)');
  }
  if (typeof r.local_db_prefix === 'string' && r.local_db_prefix !== '') {
    note('local_db_prefix', `'${r.local_db_prefix}' is not applied: a distributed model's shards' table is in the model's own database`, 'remove local_db_prefix');
  }
  return {
    engine: 'clickhouse',
    host: r.host ?? 'localhost',
    ...(port !== undefined ? { port } : {}),
    secure,
    user: r.user ?? 'default',
    password: r.password ?? '',
    // dbt-clickhouse: schema is the ClickHouse database models go to.
    database: r.schema ?? r.database ?? 'default',
    ...(cluster ? { cluster } : {}),
    ...kiln,
    ...(settings ? { settings } : {}),
    ...(r.threads !== undefined ? { threads: r.threads } : {}),
  };
}
