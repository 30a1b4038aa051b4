/** How ephemeral models are inlined: CTEs (the manifest's form) or subqueries (servers without CTEs). */
export type EphemeralStyle = 'cte' | 'subquery';
