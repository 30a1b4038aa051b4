import type { PackageProject } from './packages.js';

/** The package a project-relative file belongs to (it lies in the package's folder), or undefined for the root project's. */
export function packageOfFile(packages: readonly PackageProject[], file: string): PackageProject | undefined {
  return packages.find((p) => file.startsWith(`${p.dir}/`));
}
