// @adminjs/prisma's Resource, adapted to this project's client and to large tables.
//
// - The Rust-free client (engineType = "client") ships a trimmed data model without ids, relations
//   or enums, so @adminjs/prisma fails ("does not have an id property"). The full model written by
//   prisma/dmmf-generator.cjs is passed as `clientModule` instead (see prisma/dmmf-generator.cjs).
// - AdminJS cannot serialise BigInt and flattens Decimal into its digits: both become strings.
// - Lists must stay fast at millions of rows (bench/admin.ts):
//   * string filters are `contains` (LIKE '%…%', a full scan) upstream; identifiers listed in
//     `exact` match with equality, which their indexes serve;
//   * sorting is limited to indexed columns (a sort on anything else sorts the whole table);
//   * AdminJS's list action always asks for count(*) of the filter, which PostgreSQL answers by
//     visiting every matching row. countLimit caps it: an exact count up to the cap, else the cap, or
//     the planner's row estimate when there is no filter at all.
//   * virtual filters (e.g. Order's `q` search) are turned into indexed conditions here; upstream's
//     convertFilter would dereference their missing property and throw.
// - Secret columns (isSecretColumn: password hashes, session data, tokens) are not properties of the
//   resource at all. AdminJS serialises every property of a record (`isVisible: false` only hides it
//   in the page), for list, show, search, edit, export and populated references alike; upstream's
//   prepareReturnValues and prepareParams read and write only properties, so a column that is not one
//   is never sent to a browser, never filtered or sorted on, and never written from a form.
import { Resource, convertFilter, getModelByName } from "@adminjs/prisma";
import type { BaseRecord, Filter } from "adminjs";
import { Prisma, loadFullDmmf, type PrismaClient } from "../core/db/index.ts";

export type Where = Record<string, unknown>;
type Sort = { sortBy?: string; direction?: "asc" | "desc" };

export interface QueryPolicy {
  /** String columns compared with equality instead of `contains` (identifiers with an index). */
  exact?: readonly string[];
  /** Columns a list may be sorted by (indexed). Any other sort falls back to defaultSort. */
  sortable: readonly string[];
  /** Also what counts are taken on: must be a NOT NULL, indexed column. */
  defaultSort: Required<Sort>;
  /** Filters that are not columns: name → Prisma where fragment (null: ignore the value). */
  virtualFilters?: Record<string, (value: string) => Promise<Where | null> | Where | null>;
}

const NOTHING: Where = { id: { in: [] } };

const SECRET_WORDS = new Set(["password", "passwd", "hash", "secret", "token", "sess", "session", "salt", "otp"]);

/**
 * Columns that never leave the server through the back office, whatever the model: matched by the
 * words of their name (camelCase or snake_case: passwordHash, api_key, sess), so a secret column
 * added later is withheld without anyone remembering to list it.
 */
export function isSecretColumn(name: string): boolean {
  const words = name.split(/(?=[A-Z])|[_.\-]/).map((w) => w.toLowerCase());
  const joined = words.join("");
  return words.some((w) => SECRET_WORDS.has(w) || w.includes("password") || w.includes("token") || w.includes("secret")) ||
    joined.includes("apikey") || joined.includes("privatekey");
}

/** Exact counts up to this many rows; beyond it AdminJS shows this many (pagination stays usable). */
export const COUNT_LIMIT = 10_000;

let clientModule: { Prisma: { dmmf: ReturnType<typeof loadFullDmmf> } } | undefined;
function fullClientModule() {
  clientModule ??= { Prisma: { dmmf: loadFullDmmf() } };
  return clientModule;
}

export class PrismaResource extends Resource {
  constructor(modelName: string, prisma: PrismaClient, readonly policy: QueryPolicy) {
    const cm = fullClientModule();
    super({ model: getModelByName(modelName, cm), client: prisma, clientModule: cm });
    for (const name of Object.keys(this.propertiesObject)) if (isSecretColumn(name)) delete this.propertiesObject[name];
  }

  /**
   * The Prisma `where` for an AdminJS filter (also used by the CSV export, so both agree). AdminJS
   * applies a filter on any column named in the query string, not only the ones offered in the
   * filter panel; here only the offered ones count (a crafted `filters.subject=…` would otherwise be
   * a full-table LIKE scan), and an impossible enum value matches nothing instead of failing.
   */
  async where(filter?: Filter): Promise<Where> {
    if (!filter) return {};
    const offered = this.offeredFilters();
    const parts: Where[] = [];
    const real: Filter["filters"] = {};
    for (const [name, f] of Object.entries(filter.filters)) {
      const build = this.policy.virtualFilters?.[name];
      if (build) {
        const fragment = await build(String(f.value ?? "").trim());
        if (fragment) parts.push(fragment);
      } else if (f.property && (!offered || offered.has(name))) {
        const values = f.property.availableValues();
        if (values && !values.includes(String(f.value))) parts.push(NOTHING);
        else real[name] = f;
      }
    }
    const where: Where = convertFilter(this.model.fields, { ...filter, filters: real } as Filter);
    for (const key of this.policy.exact ?? []) {
      const cond = where[key] as { contains?: string } | undefined;
      if (cond && typeof cond === "object" && "contains" in cond) where[key] = cond.contains;
    }
    return parts.length ? { AND: [where, ...parts] } : where;
  }

  /** The resource's filterProperties (null until AdminJS has decorated it, or if none are set). */
  private offeredFilters(): Set<string> | null {
    const decorated = (this as unknown as { _decorated?: { options: { filterProperties?: string[] } } })._decorated;
    const list = decorated?.options.filterProperties;
    return list?.length ? new Set(list) : null;
  }

  safeSort(sort: Sort = {}): Required<Sort> {
    const { sortable, defaultSort } = this.policy;
    // AdminJS sends its own default (the first list column) when the URL names no sort: that, or a
    // column without an index, means the resource's default order.
    if (!sort.sortBy || !sortable.includes(sort.sortBy)) return defaultSort;
    return { sortBy: sort.sortBy, direction: sort.direction === "asc" ? "asc" : "desc" };
  }

  override async find(filter: Filter, params: { limit?: number; offset?: number; sort?: Sort } = {}): Promise<BaseRecord[]> {
    const { limit = 10, offset = 0 } = params;
    const { sortBy, direction } = this.safeSort(params.sort);
    // id as a tie-breaker: created_at is not unique, and pages must not repeat or skip rows.
    const orderBy = sortBy === "id" ? [{ id: direction }] : [{ [sortBy]: direction }, { id: direction }];
    const rows = await this.manager.findMany({ where: await this.where(filter), skip: offset, take: limit, orderBy });
    return rows.map((row: Record<string, unknown>) => this.build(this.prepareReturnValues(row)));
  }

  override async count(filter: Filter): Promise<number> {
    const where = await this.where(filter);
    if (Object.keys(where).length === 0) {
      const estimate = await this.estimatedRows();
      if (estimate > COUNT_LIMIT) return estimate;
    }
    // Counting the default sort column (NOT NULL), in its order, lets PostgreSQL answer from the index
    // the list itself uses, e.g. order(status, created_at), without visiting the table: Prisma's
    // plain capped count selects id ORDER BY id, which visits one heap page per row (≈30× slower for
    // a rare status at 10⁶ orders).
    const column = this.policy.defaultSort.sortBy;
    const counted = await this.manager.count({ where, take: COUNT_LIMIT, select: { [column]: true }, orderBy: { [column]: this.policy.defaultSort.direction } });
    return counted[column] as number;
  }

  /** The planner's row estimate (pg_class.reltuples, kept by ANALYZE/autovacuum); -1 if unknown. */
  private async estimatedRows(): Promise<number> {
    const table = this.model.dbName ?? this.model.name;
    const rows = await this.client.$queryRaw<{ n: number | null }[]>`
      SELECT reltuples::float8 AS n FROM pg_class WHERE oid = to_regclass(${`"${table.replace(/"/g, '""')}"`})`;
    return Math.round(rows[0]?.n ?? -1);
  }

  protected override prepareReturnValues(params: Record<string, unknown>): Record<string, unknown> {
    const out = super.prepareReturnValues(params);
    for (const [k, v] of Object.entries(out)) {
      if (typeof v === "bigint" || Prisma.Decimal.isDecimal(v)) out[k] = String(v);
    }
    return out;
  }
}
