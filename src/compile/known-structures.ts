import type { ColumnDefinition } from '../adapters/ddl.js';
import type { CompiledProject } from './compile-project.js';

/**
 * The relations a contracted model reads, each with its columns and types, when every one of
 * them is known from the project's files alone: seeds whose `column_types` name every CSV column,
 * sources whose YAML gives every column a `data_type`, models with an enforced contract (their
 * contract), and ephemeral models through what they read. With these the model's output types
 * can be asked of ClickHouse before anything is built, whatever the warehouse holds now.
 * Undefined when one input's types are not known (then the build-time check is the only one).
 */
export function knownInputs(compiled: CompiledProject, uniqueId: string): Map<string, readonly ColumnDefinition[]> | undefined {
  const out = new Map<string, readonly ColumnDefinition[]>();
  const seen = new Set<string>();
  const visit = (id: string): boolean => {
    if (seen.has(id)) return true;
    seen.add(id);
    const model = compiled.manifest.nodes[id];
    if (model?.resource_type === 'model') {
      if (model.relation_name === null) return model.depends_on.nodes.every(visit); // ephemeral: inlined
      const exec = compiled.execution.models[id];
      const contract = exec && 'table' in exec ? exec.table?.contract : undefined;
      if (!contract) return false;
      out.set(model.relation_name, contract.map((c) => ({ name: c.name, type: c.type })));
      return true;
    }
    if (model?.resource_type === 'seed') {
      const seed = compiled.parsed.seeds.find((s) => s.uniqueId === id);
      const types = (model.config.column_types ?? {}) as Record<string, string>;
      if (!seed || !seed.header.every((h) => typeof types[h] === 'string')) return false;
      out.set(model.relation_name, seed.header.map((h) => ({ name: h, type: types[h]! })));
      return true;
    }
    const source = compiled.manifest.sources[id];
    if (!source) return false;
    const columns = Object.values(source.columns);
    if (columns.length === 0 || columns.some((c) => !c.data_type)) return false;
    out.set(source.relation_name, columns.map((c) => ({ name: c.name, type: c.data_type! })));
    return true;
  };
  const node = compiled.manifest.nodes[uniqueId];
  if (!node) return undefined;
  return node.depends_on.nodes.every(visit) ? out : undefined;
}
