/** One SQL statement with its arguments, as the engine's hand-written batches carry them. */
export type Statement = { sql: string; args: (string | number | null)[] };
