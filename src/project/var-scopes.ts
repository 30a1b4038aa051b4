import { isPlainObject } from './node-config.js';
import { packageOfFile } from './package-of-file.js';
import type { PackageProject } from './packages.js';
import type { ProjectConfig } from './types.js';
import type { VarScope } from './yaml-strings.js';

/**
 * Vars as dbt scopes them. A `vars:` key naming a project (`vars: { dbt_utils: {...} }`) holds
 * that project's vars; the other keys are for every project. The root's nodes see the root's
 * vars; a package's see its own dbt_project.yml's, under the root's (global, then those scoped to
 * it); `--vars` win everywhere.
 */
export function varScopes(config: ProjectConfig, packages: readonly PackageProject[], cli: Readonly<Record<string, unknown>>, env: VarScope['env']): { scope: VarScope; packageScopes: Map<string, VarScope> } {
  const projects = new Set([config.name, ...packages.map((p) => p.name)]);
  const global = (vars: Readonly<Record<string, unknown>>) => Object.fromEntries(Object.entries(vars).filter(([k, v]) => !(projects.has(k) && isPlainObject(v))));
  const scoped = (vars: Readonly<Record<string, unknown>>, name: string) => (isPlainObject(vars[name]) ? (vars[name] as Record<string, unknown>) : {});
  const rootVars = { ...global(config.vars), ...scoped(config.vars, config.name) };
  const packageScopes = new Map<string, VarScope>();
  for (const p of packages) {
    packageScopes.set(p.name, { vars: { ...global(p.config.vars), ...scoped(p.config.vars, p.name), ...global(config.vars), ...scoped(config.vars, p.name), ...cli }, env });
  }
  return { scope: { vars: { ...rootVars, ...cli }, env }, packageScopes };
}

/** The var scope of a project file: its package's when it is one of a package's, else the root's. */
export function varScopeOf(project: { readonly scope: VarScope; readonly packageScopes: ReadonlyMap<string, VarScope>; readonly packages: readonly PackageProject[] }, file: string): VarScope {
  const p = packageOfFile(project.packages, file);
  return (p && project.packageScopes.get(p.name)) ?? project.scope;
}
