// The writer's multi-row statements: rows travel as one bound array parameter per column, unnested by the
// server, so the statement text is fixed and no value is formatted into SQL.
import { pgp } from '../db/postgres.js';

/** A column: its name, the element type its array is bound as, how a row gives its value, and an optional cast. */
export type Column<Row> = readonly [name: string, type: string, value: (row: Row) => unknown, cast?: string];

/**
 * A multi-row INSERT of unnested arrays. Formatting a 500-row batch into VALUES literals (pg-promise's
 * helpers.insert) took ~13 ms of the processor's CPU per batch, the largest single cost in its profile;
 * building the arrays takes ~3 (a drain under --cpu-prof, read with bench/profile-summary.ts, 2026-11-25).
 */
export class UnnestInsert<Row> {
  readonly #text: string;
  readonly #columns: ReadonlyArray<Column<Row>>;

  constructor(table: string, columns: ReadonlyArray<Column<Row>>) {
    this.#columns = columns;
    const names = columns.map(([name]) => name).join(', ');
    const selected = columns.map(([name, , , cast]) => (cast ? `u.${name}::${cast}` : `u.${name}`)).join(', ');
    const arrays = columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
    this.#text = `INSERT INTO ${table} (${names}) SELECT ${selected} FROM unnest(${arrays}) AS u(${names})`;
  }

  /** The statement for these rows, followed by `tail` (ON CONFLICT ..., RETURNING ...). */
  query(rows: readonly Row[], tail: string): InstanceType<typeof pgp.ParameterizedQuery> {
    const values = this.#columns.map(([, , value]) => rows.map(value));
    return new pgp.ParameterizedQuery({ text: `${this.#text} ${tail}`, values });
  }
}

/** A revision key as PostgreSQL array text ('{1,1732406400,…}'), which the statements cast to bigint[]. */
export const keyText = (key: readonly bigint[] | null) => (key ? `{${key.join(',')}}` : null);
