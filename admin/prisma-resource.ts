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
// - Input is checked before it reaches PostgreSQL (BadQueryError, a 400 naming the parameter):
//   upstream turns `filters.buyer=abc` into NaN, a bad date into an Invalid Date, `needsReview=x`
//   into a string, `page=-5` into a negative offset and an id beyond int4 into an overflow, and each
//   of those was a 500 from the driver.
// - Secret columns (isSecretColumn: password hashes, session data, tokens) are not properties of the
//   resource at all. AdminJS serialises every property of a record (`isVisible: false` only hides it
//   in the page), for list, show, search, edit, export and populated references alike; upstream's
//   prepareReturnValues and prepareParams read and write only properties, so a column that is not one
//   is never sent to a browser, never filtered or sorted on, and never written from a form.
import { Resource, convertFilter, getModelByName } from "@adminjs/prisma";
import type { BaseRecord, Filter } from "adminjs";
import { INT4_MAX, Prisma, loadFullDmmf, type PrismaClient } from "../core/db/index.ts";

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

/** A query the back office cannot run as asked: answered 400 with this message (core/http errorResponder). */
export class BadQueryError extends Error {
  readonly status = 400;
  readonly expose = true;
  constructor(message: string) {
    super(message);
    this.name = "BadQueryError";
  }
}

const INT = /^-?\d{1,10}$/;
const isInt4 = (v: unknown): boolean => typeof v === "string" || typeof v === "number" ? INT.test(String(v).trim()) && Math.abs(Number(v)) <= INT4_MAX : false;
/** A date PostgreSQL can store and staff can mean: years 1000–9999. */
function isDate(v: unknown): boolean {
  if (typeof v !== "string" || v.trim() === "") return false;
  const d = new Date(v);
  return !Number.isNaN(d.getTime()) && d.getUTCFullYear() >= 1000 && d.getUTCFullYear() <= 9999;
}
/** The largest row offset a list page may start at (page × perPage). */
const MAX_OFFSET = INT4_MAX;
const MAX_PER_PAGE = 500; // AdminJS's own PER_PAGE_LIMIT

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
        else {
          this.checkFilter(name, f.property, f.value);
          real[name] = f;
        }
      }
    }
    const where: Where = convertFilter(this.model.fields, { ...filter, filters: real } as Filter);
    for (const key of this.policy.exact ?? []) {
      const cond = where[key] as { contains?: string } | undefined;
      if (cond && typeof cond === "object" && "contains" in cond) where[key] = cond.contains;
    }
    return parts.length ? { AND: [where, ...parts] } : where;
  }

  /** Throws BadQueryError unless `value` is something the column's type can be compared with. */
  private checkFilter(name: string, property: { type(): string; availableValues(): string[] | null }, value: unknown): void {
    const type = property.type();
    const column = this.model.fields.find((f) => f.name === name);
    if (type === "reference" || (type === "number" && column?.type === "Int")) {
      if (!isInt4(value)) throw new BadQueryError(`filter ${name}: expected a whole number from -${INT4_MAX} to ${INT4_MAX}`);
    } else if (type === "number" || type === "float") {
      if (typeof value !== "string" || !Number.isFinite(Number(value)) || value.trim() === "") throw new BadQueryError(`filter ${name}: expected a number`);
    } else if (type === "boolean") {
      if (value !== "true" && value !== "false") throw new BadQueryError(`filter ${name}: expected true or false`);
    } else if (type === "date" || type === "datetime") {
      // AdminJS sends a range as filters.<name>~~from / ~~to; a bare value is ignored upstream.
      if (value && typeof value === "object" && !Array.isArray(value)) {
        for (const [bound, v] of Object.entries(value)) {
          if (bound !== "from" && bound !== "to") throw new BadQueryError(`filter ${name}: only ~~from and ~~to are accepted`);
          if (v !== "" && !isDate(v)) throw new BadQueryError(`filter ${name}~~${bound}: expected a date such as 2026-03-01 or 2026-03-01T08:00:00+08:00`);
        }
      } else if (typeof value !== "string") {
        throw new BadQueryError(`filter ${name}: expected a date range`);
      }
    } else if (type === "string" && !property.availableValues()) {
      if (typeof value !== "string") throw new BadQueryError(`filter ${name}: expected one text value`);
    } else if (type !== "string") {
      throw new BadQueryError(`filter ${name}: this column cannot be filtered`);
    }
  }

  /** A record id from a URL, checked against the id column's type before it reaches PostgreSQL. */
  private checkId(id: unknown): void {
    const idField = this.model.fields.find((f) => f.isId);
    if (idField?.type === "Int" && !isInt4(id)) throw new BadQueryError(`${this.model.name} id: expected a whole number up to ${INT4_MAX}`);
  }

  override async findOne(id: string): Promise<BaseRecord | null> {
    this.checkId(id);
    return super.findOne(id);
  }

  override async findMany(ids: (string | number)[]): Promise<BaseRecord[]> {
    for (const id of ids) this.checkId(String(id));
    return super.findMany(ids);
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
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PER_PAGE) throw new BadQueryError(`perPage: expected a whole number from 1 to ${MAX_PER_PAGE}`);
    if (!Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET) throw new BadQueryError("page: expected a whole number from 1 (and within the list)");
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
