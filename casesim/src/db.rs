//! SQLite schema, deterministic seeding and the queries behind the operations.
//!
//! The database is in memory by default (one connection, so it lives exactly as long as the
//! pool) or a file when [`crate::Config::database`] is set; a file that already holds residents is
//! reused, not re-seeded.

use crate::Result;
use crate::rules::{AssessmentFacts, Facts, Job, Person};
use crate::synth::{self, DISTRICTS, Rng, World};
use chrono::NaiveDate;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqlitePool};
use std::str::FromStr;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS residents (
  id INTEGER PRIMARY KEY, id_number TEXT NOT NULL UNIQUE, name TEXT NOT NULL, gender TEXT NOT NULL,
  birth_date TEXT NOT NULL, household_id INTEGER NOT NULL, hukou TEXT NOT NULL, hukou_place TEXT NOT NULL,
  land_expropriated INTEGER NOT NULL, residence_permit INTEGER NOT NULL, district TEXT NOT NULL,
  street TEXT NOT NULL, address TEXT NOT NULL, mobile TEXT NOT NULL, disability_category TEXT,
  disability_grade INTEGER, disability_cert_no TEXT, in_institution INTEGER NOT NULL, low_income TEXT,
  retired INTEGER NOT NULL, pension_monthly INTEGER, zhinei_province TEXT, zhinei_years INTEGER,
  returned_on TEXT, synthetic INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS residents_household ON residents(household_id);
CREATE TABLE IF NOT EXISTS employment (
  resident_id INTEGER NOT NULL, employer TEXT NOT NULL, employer_district TEXT NOT NULL, industry TEXT NOT NULL,
  start_month TEXT NOT NULL, end_month TEXT, contract_end TEXT, monthly_wage INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS employment_resident ON employment(resident_id);
CREATE TABLE IF NOT EXISTS unemployment_registrations (
  resident_id INTEGER NOT NULL, registered_on TEXT NOT NULL, unemployed_since TEXT, status TEXT NOT NULL, case_no TEXT);
CREATE INDEX IF NOT EXISTS unemp_resident ON unemployment_registrations(resident_id);
CREATE TABLE IF NOT EXISTS assessments (
  application_no TEXT PRIMARY KEY, resident_id INTEGER NOT NULL, level INTEGER NOT NULL, assessed_on TEXT NOT NULL,
  valid_until TEXT NOT NULL, agency TEXT NOT NULL, street TEXT NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS assess_resident ON assessments(resident_id);
CREATE TABLE IF NOT EXISTS subsidies (
  resident_id INTEGER NOT NULL, matter_code TEXT NOT NULL, start_month TEXT NOT NULL, end_month TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roads (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, district TEXT NOT NULL, street TEXT NOT NULL, kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS matters (
  code TEXT PRIMARY KEY, name TEXT NOT NULL, department TEXT NOT NULL, community INTEGER NOT NULL,
  citywide INTEGER NOT NULL, delta INTEGER NOT NULL, kiosk INTEGER NOT NULL, remote INTEGER NOT NULL,
  promised_days INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
  id INTEGER PRIMARY KEY, case_no TEXT NOT NULL UNIQUE, matter_code TEXT NOT NULL, resident_id INTEGER NOT NULL,
  status TEXT NOT NULL, source TEXT NOT NULL, submitted_at TEXT NOT NULL, street TEXT NOT NULL, district TEXT NOT NULL,
  window_no TEXT, clerk TEXT, ticket_no TEXT, payload TEXT NOT NULL DEFAULT '{}', idempotency_key TEXT UNIQUE);
CREATE INDEX IF NOT EXISTS cases_resident ON cases(resident_id);
CREATE INDEX IF NOT EXISTS cases_ticket ON cases(ticket_no);
CREATE TABLE IF NOT EXISTS trajectory (
  case_no TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, node TEXT NOT NULL, actor TEXT NOT NULL, note TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS trajectory_case ON trajectory(case_no);
CREATE TABLE IF NOT EXISTS ratings (
  rating_id TEXT PRIMARY KEY, case_no TEXT NOT NULL, channel TEXT NOT NULL, level TEXT NOT NULL, rated_at TEXT NOT NULL,
  comment TEXT NOT NULL, rectification TEXT NOT NULL, rater_resident_id INTEGER NOT NULL, evaluator_type TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ratings_case ON ratings(case_no);
CREATE TABLE IF NOT EXISTS result_overrides (
  resident_id INTEGER NOT NULL, operation TEXT NOT NULL, result TEXT NOT NULL, PRIMARY KEY (resident_id, operation));
CREATE TABLE IF NOT EXISTS idempotency (
  key TEXT PRIMARY KEY, operation TEXT NOT NULL, request_hash TEXT NOT NULL, response TEXT NOT NULL, created_at TEXT NOT NULL);
"#;

/// Handle to the case database.
#[derive(Debug, Clone)]
pub struct Db {
    /// The pool (public so that tests can inspect the state directly).
    pub pool: SqlitePool,
}

/// (code, name, department, community, citywide, delta, kiosk, remote, promised days)
pub(crate) type MatterRow = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// The 全口径事项清单: a snapshot of `data/catalog/matters.jsonl` (the data team's catalog, so
/// that codes agree with the knowledge base), with promised days from [`BUILTIN_MATTERS`] where
/// known. Falls back to the built-in list if the snapshot cannot be read.
pub(crate) static MATTERS: std::sync::LazyLock<Vec<MatterRow>> =
    std::sync::LazyLock::new(load_catalog);

const CATALOG_JSONL: &str = include_str!("catalog.jsonl");

fn load_catalog() -> Vec<MatterRow> {
    // Strings are leaked once per process so the rows stay `&'static`, like the built-in ones.
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let mut out: Vec<MatterRow> = Vec::new();
    for line in CATALOG_JSONL.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(code), Some(name)) = (v["code"].as_str(), v["name"].as_str()) else {
            continue;
        };
        if out.iter().any(|m| m.0 == code) {
            continue;
        }
        let channels: Vec<&str> = v["channels"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
            .unwrap_or_default();
        let has = |c: &str| channels.contains(&c) as i64;
        let promised = BUILTIN_MATTERS
            .iter()
            .find(|m| m.0 == code)
            .map(|m| m.8)
            .unwrap_or(5);
        out.push((
            leak(code),
            leak(name),
            leak(v["department"].as_str().unwrap_or("")),
            has("窗口").max(1),
            has("全市通办"),
            has("长三角"),
            has("自助机"),
            has("远程虚拟窗口"),
            promised,
        ));
    }
    if out.len() < 10 {
        BUILTIN_MATTERS.to_vec()
    } else {
        out
    }
}

/// Built-in fallback list (also the source of promised days).
const BUILTIN_MATTERS: &[MatterRow] = &[
    (
        "SQ-RS-001",
        "失业登记（本市户籍）",
        "区人力资源社会保障局",
        1,
        1,
        0,
        1,
        1,
        1,
    ),
    (
        "SQ-RS-002",
        "失业登记（非本市户籍）",
        "区人力资源社会保障局",
        1,
        1,
        0,
        0,
        1,
        1,
    ),
    (
        "SQ-RS-003",
        "就业登记",
        "区人力资源社会保障局",
        1,
        1,
        1,
        1,
        1,
        1,
    ),
    (
        "SQ-RS-005",
        "失业保险金申领",
        "区就业促进中心",
        1,
        1,
        1,
        1,
        1,
        5,
    ),
    (
        "SQ-RS-008",
        "灵活就业人员就业登记",
        "区人力资源社会保障局",
        1,
        1,
        0,
        1,
        1,
        1,
    ),
    (
        "SQ-RS-012",
        "就业困难人员认定",
        "区就业促进中心",
        1,
        1,
        0,
        0,
        1,
        10,
    ),
    (
        "SQ-RS-019",
        "个人申领郊区农村富余劳动力跨区非农就业补贴申请",
        "区就业促进中心",
        1,
        1,
        0,
        0,
        1,
        15,
    ),
    (
        "SQ-RS-021",
        "城乡居民基本养老保险参保登记",
        "区社会保险事业管理中心",
        1,
        1,
        1,
        1,
        1,
        1,
    ),
    (
        "SQ-RS-025",
        "退休人员基本信息变更",
        "区社会保险事业管理中心",
        1,
        1,
        1,
        1,
        0,
        3,
    ),
    (
        "SQ-YB-001",
        "城乡居民基本医疗保险参保登记",
        "区医疗保障局",
        1,
        1,
        1,
        1,
        1,
        1,
    ),
    (
        "SQ-YB-004",
        "长期护理保险需求评估申请",
        "区医疗保障局",
        1,
        1,
        0,
        1,
        1,
        20,
    ),
    (
        "SQ-YB-006",
        "基本医疗保险关系转移接续",
        "区医疗保障局",
        1,
        1,
        1,
        0,
        1,
        15,
    ),
    (
        "SQ-MZ-001",
        "最低生活保障申请",
        "区民政局",
        1,
        1,
        0,
        0,
        0,
        30,
    ),
    ("SQ-MZ-003", "低收入家庭认定", "区民政局", 1, 1, 0, 0, 0, 30),
    ("SQ-MZ-008", "临时救助申请", "区民政局", 1, 1, 0, 0, 1, 10),
    (
        "SQ-MZ-012",
        "老年综合津贴申领",
        "区民政局",
        1,
        1,
        1,
        1,
        1,
        5,
    ),
    (
        "SQ-MZ-015",
        "老年照护统一需求评估申请",
        "区民政局",
        1,
        1,
        0,
        1,
        1,
        20,
    ),
    ("SQ-MZ-020", "养老服务补贴", "区民政局", 1, 1, 0, 0, 1, 15),
    (
        "SQ-MZ-024",
        "社区居家养老服务申请",
        "区民政局",
        1,
        1,
        0,
        0,
        1,
        10,
    ),
    (
        "SQ-MZ-031",
        "本市支援外地建设退休（职）回沪定居人员帮困补助",
        "区民政局",
        1,
        1,
        0,
        0,
        0,
        20,
    ),
    (
        "SQ-CL-001",
        "残疾人证新办",
        "区残疾人联合会",
        1,
        1,
        0,
        0,
        0,
        30,
    ),
    (
        "SQ-CL-005",
        "重度残疾人护理补贴申请",
        "区残疾人联合会",
        1,
        1,
        0,
        0,
        1,
        15,
    ),
    (
        "SQ-CL-008",
        "困难残疾人生活补贴申请",
        "区残疾人联合会",
        1,
        1,
        0,
        0,
        1,
        15,
    ),
    (
        "SQ-CL-033",
        "残疾人居家养护服务申请",
        "区残疾人联合会",
        1,
        0,
        0,
        0,
        1,
        15,
    ),
    (
        "SQ-WJ-002",
        "生育登记",
        "区卫生健康委员会",
        1,
        1,
        1,
        1,
        1,
        1,
    ),
    (
        "SQ-WJ-006",
        "独生子女父母奖励费申领",
        "区卫生健康委员会",
        1,
        1,
        0,
        0,
        1,
        10,
    ),
    ("SQ-GA-003", "居住证申领", "区公安分局", 1, 1, 0, 1, 0, 15),
    (
        "SQ-ZJ-001",
        "公共租赁住房申请",
        "区住房保障和房屋管理局",
        1,
        0,
        0,
        0,
        0,
        30,
    ),
    (
        "SQ-ZJ-004",
        "廉租住房租金配租申请",
        "区住房保障和房屋管理局",
        1,
        0,
        0,
        0,
        0,
        30,
    ),
    (
        "SQ-TY-001",
        "退役军人优待证申领",
        "区退役军人事务局",
        1,
        1,
        1,
        0,
        1,
        20,
    ),
    (
        "SQ-JY-002",
        "中小学生、婴幼儿居民医保参保登记",
        "区医疗保障局",
        1,
        1,
        1,
        1,
        1,
        1,
    ),
    (
        "SQ-SW-001",
        "个人社会保险参保缴费证明打印",
        "区社会保险事业管理中心",
        1,
        1,
        1,
        1,
        1,
        0,
    ),
];

/// A resident row.
#[derive(Debug, Clone)]
pub struct ResidentRow {
    /// Row id.
    pub id: i64,
    /// ID number.
    pub id_number: String,
    /// Name.
    pub name: String,
    /// Gender.
    pub gender: String,
    /// Birth date.
    pub birth_date: String,
    /// Household id.
    pub household_id: i64,
    /// 户籍类型.
    pub hukou: String,
    /// 户籍地.
    pub hukou_place: String,
    /// 征地.
    pub land_expropriated: i64,
    /// 居住证.
    pub residence_permit: i64,
    /// District of residence.
    pub district: String,
    /// 街道/镇.
    pub street: String,
    /// Address.
    pub address: String,
    /// Mobile.
    pub mobile: String,
    /// 残疾类别.
    pub disability_category: Option<String>,
    /// 残疾等级.
    pub disability_grade: Option<i64>,
    /// 残疾人证号.
    pub disability_cert_no: Option<String>,
    /// In an institution.
    pub in_institution: i64,
    /// 低保 / 低收入.
    pub low_income: Option<String>,
    /// Retired.
    pub retired: i64,
    /// Monthly pension.
    pub pension_monthly: Option<i64>,
    /// 支内 province.
    pub zhinei_province: Option<String>,
    /// 支内 years.
    pub zhinei_years: Option<i64>,
    /// Returned to Shanghai on.
    pub returned_on: Option<String>,
    /// 独居 as a test resident declares it (`None` for the generated population: the household
    /// decides).
    pub lives_alone: Option<i64>,
    /// 失业保险缴费月数 when a test resident states it (`None`: derived from employment).
    pub ui_months: Option<i64>,
}

// Written out rather than derived: `sqlx`'s derive macros bring its compile-time
// query checker, and with it a second build of both database drivers, into every
// build of the binary.
impl<'r> FromRow<'r, sqlx::sqlite::SqliteRow> for ResidentRow {
    fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> std::result::Result<Self, sqlx::Error> {
        use sqlx::Row;
        Ok(ResidentRow {
            id: row.try_get("id")?,
            id_number: row.try_get("id_number")?,
            name: row.try_get("name")?,
            gender: row.try_get("gender")?,
            birth_date: row.try_get("birth_date")?,
            household_id: row.try_get("household_id")?,
            hukou: row.try_get("hukou")?,
            hukou_place: row.try_get("hukou_place")?,
            land_expropriated: row.try_get("land_expropriated")?,
            residence_permit: row.try_get("residence_permit")?,
            district: row.try_get("district")?,
            street: row.try_get("street")?,
            address: row.try_get("address")?,
            mobile: row.try_get("mobile")?,
            disability_category: row.try_get("disability_category")?,
            disability_grade: row.try_get("disability_grade")?,
            disability_cert_no: row.try_get("disability_cert_no")?,
            in_institution: row.try_get("in_institution")?,
            low_income: row.try_get("low_income")?,
            retired: row.try_get("retired")?,
            pension_monthly: row.try_get("pension_monthly")?,
            zhinei_province: row.try_get("zhinei_province")?,
            zhinei_years: row.try_get("zhinei_years")?,
            returned_on: row.try_get("returned_on")?,
            lives_alone: row.try_get("lives_alone")?,
            ui_months: row.try_get("ui_months")?,
        })
    }
}

/// Columns added after the first schema; a database file written by an older build gets them on
/// open, so that `SELECT *` keeps decoding.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("residents", "id_type", "TEXT"),
    ("residents", "lives_alone", "INTEGER"),
    ("residents", "ui_months", "INTEGER"),
    ("employment", "separation_date", "TEXT"),
    ("employment", "separation_reason", "TEXT"),
];

async fn migrate(pool: &SqlitePool) -> Result<()> {
    for (table, column, ty) in ADDED_COLUMNS {
        let have: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?"
        ))
        .bind(column)
        .fetch_one(pool)
        .await?;
        if have == 0 {
            sqlx::raw_sql(&format!("ALTER TABLE {table} ADD COLUMN {column} {ty}"))
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

/// (employer district, industry, start, end, contract end, wage) as stored.
type JobRow = (String, String, String, Option<String>, Option<String>, i64);

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn chunked<T>(rows: &[T], per_chunk: usize) -> impl Iterator<Item = &[T]> {
    rows.chunks(per_chunk.max(1))
}

impl Db {
    /// Open (and if empty, seed) the database.
    ///
    /// # Errors
    /// [`Error::Database`] when SQLite cannot be opened or written.
    pub async fn open(cfg: &crate::Config) -> Result<Db> {
        let opts = match &cfg.database {
            Some(path) => SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal),
            None => SqliteConnectOptions::from_str("sqlite::memory:")?,
        };
        // One connection: an in-memory database lives exactly as long as its connection, and the
        // simulator's write path is serialised anyway (that is what makes idempotency exact).
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        migrate(&pool).await?;
        let db = Db { pool };
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM residents")
            .fetch_one(&db.pool)
            .await?;
        if n == 0 {
            db.seed(cfg).await?;
        }
        Ok(db)
    }

    async fn seed(&self, cfg: &crate::Config) -> Result<()> {
        let world = synth::world(cfg.seed, cfg.today, cfg.residents);
        let mut tx = self.pool.begin().await?;
        for chunk in chunked(&world.roads, 500) {
            let mut qb: QueryBuilder<Sqlite> =
                QueryBuilder::new("INSERT INTO roads (name, district, street, kind) ");
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(&r.name)
                    .push_bind(DISTRICTS[r.district].name)
                    .push_bind(r.street)
                    .push_bind(r.kind);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in chunked(&world.residents, 400) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO residents (id, id_number, name, gender, birth_date, household_id, hukou, hukou_place, land_expropriated, residence_permit, district, street, address, mobile, disability_category, disability_grade, disability_cert_no, in_institution, low_income, retired, pension_monthly, zhinei_province, zhinei_years, returned_on) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.id)
                    .push_bind(&r.id_number)
                    .push_bind(&r.name)
                    .push_bind(r.gender)
                    .push_bind(r.birth_date.to_string())
                    .push_bind(r.household_id)
                    .push_bind(r.hukou)
                    .push_bind(&r.hukou_place)
                    .push_bind(r.land_expropriated as i64)
                    .push_bind(r.residence_permit as i64)
                    .push_bind(DISTRICTS[r.district].name)
                    .push_bind(r.street)
                    .push_bind(&r.address)
                    .push_bind(&r.mobile)
                    .push_bind(r.disability.as_ref().map(|d| d.0))
                    .push_bind(r.disability.as_ref().map(|d| d.1))
                    .push_bind(r.disability.as_ref().map(|d| d.2.clone()))
                    .push_bind(r.in_institution as i64)
                    .push_bind(r.low_income)
                    .push_bind(r.retired as i64)
                    .push_bind(r.pension_monthly)
                    .push_bind(r.zhinei.map(|z| z.0))
                    .push_bind(r.zhinei.map(|z| z.1))
                    .push_bind(r.zhinei.and_then(|z| z.2).map(|d| d.to_string()));
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in chunked(&world.employment, 800) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO employment (resident_id, employer, employer_district, industry, start_month, end_month, contract_end, monthly_wage) ",
            );
            qb.push_values(chunk, |mut b, e| {
                b.push_bind(e.resident_id)
                    .push_bind(&e.employer)
                    .push_bind(DISTRICTS[e.employer_district].name)
                    .push_bind(e.industry)
                    .push_bind(e.start.to_string())
                    .push_bind(e.end.map(|d| d.to_string()))
                    .push_bind(e.contract_end.map(|d| d.to_string()))
                    .push_bind(e.wage);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in chunked(&world.unemployment, 800) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO unemployment_registrations (resident_id, registered_on, status) ",
            );
            qb.push_values(chunk, |mut b, (rid, d)| {
                b.push_bind(*rid).push_bind(d.to_string()).push_bind("有效");
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in chunked(&world.assessments, 800) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO assessments (application_no, resident_id, level, assessed_on, valid_until, agency, street, status) ",
            );
            qb.push_values(chunk, |mut b, a| {
                b.push_bind(&a.application_no)
                    .push_bind(a.resident_id)
                    .push_bind(a.level)
                    .push_bind(a.assessed_on.to_string())
                    .push_bind(a.valid_until.to_string())
                    .push_bind(&a.agency)
                    .push_bind(a.street)
                    .push_bind(a.status);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in chunked(&world.subsidies, 800) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO subsidies (resident_id, matter_code, start_month, end_month) ",
            );
            qb.push_values(chunk, |mut b, s| {
                b.push_bind(s.0)
                    .push_bind(s.1)
                    .push_bind(s.2.to_string())
                    .push_bind(s.3.to_string());
            });
            qb.build().execute(&mut *tx).await?;
        }
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO matters (code, name, department, community, citywide, delta, kiosk, remote, promised_days) ",
        );
        qb.push_values(MATTERS.iter(), |mut b, m| {
            b.push_bind(m.0)
                .push_bind(m.1)
                .push_bind(m.2)
                .push_bind(m.3)
                .push_bind(m.4)
                .push_bind(m.5)
                .push_bind(m.6)
                .push_bind(m.7)
                .push_bind(m.8);
        });
        qb.build().execute(&mut *tx).await?;
        seed_cases(&mut tx, &world, cfg).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A resident by ID number (exact, upper-cased X).
    pub async fn resident(&self, id_number: &str) -> Result<Option<ResidentRow>> {
        Ok(
            sqlx::query_as::<_, ResidentRow>("SELECT * FROM residents WHERE id_number = ?")
                .bind(id_number.to_ascii_uppercase())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// A resident by row id.
    pub async fn resident_by_id(&self, id: i64) -> Result<Option<ResidentRow>> {
        Ok(
            sqlx::query_as::<_, ResidentRow>("SELECT * FROM residents WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Load the facts the rules need for one resident.
    pub async fn facts(&self, r: &ResidentRow) -> Result<Facts> {
        let jobs: Vec<JobRow> =
            sqlx::query_as("SELECT employer_district, industry, start_month, end_month, contract_end, monthly_wage FROM employment WHERE resident_id = ? ORDER BY start_month")
                .bind(r.id)
                .fetch_all(&self.pool)
                .await?;
        let jobs = jobs
            .into_iter()
            .filter_map(|(district, industry, start, end, contract_end, wage)| {
                Some(Job {
                    district,
                    industry: if crate::fixtures::is_farm_trade(&industry) {
                        "农业".into()
                    } else {
                        "非农".into()
                    },
                    start: date(&start)?,
                    end: end.as_deref().and_then(date),
                    contract_end: contract_end.as_deref().and_then(date),
                    wage,
                })
            })
            .collect();
        let reg: Option<String> = sqlx::query_scalar("SELECT registered_on FROM unemployment_registrations WHERE resident_id = ? AND status = '有效' ORDER BY registered_on DESC LIMIT 1")
            .bind(r.id)
            .fetch_optional(&self.pool)
            .await?;
        let assessment: Option<(i64, String, String)> =
            sqlx::query_as("SELECT level, assessed_on, valid_until FROM assessments WHERE resident_id = ? AND status = '已登记' ORDER BY assessed_on DESC LIMIT 1")
                .bind(r.id)
                .fetch_optional(&self.pool)
                .await?;
        let counted: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM residents WHERE household_id = ?")
                .bind(r.household_id)
                .fetch_one(&self.pool)
                .await?;
        let household_size = match r.lives_alone {
            Some(0) => counted.max(2),
            Some(_) => 1,
            None => counted,
        };
        let subs: Vec<(String, String)> = sqlx::query_as("SELECT start_month, end_month FROM subsidies WHERE resident_id = ? AND matter_code = 'SQ-RS-019'").bind(r.id).fetch_all(&self.pool).await?;
        Ok(Facts {
            person: Person {
                gender: r.gender.clone(),
                birth_date: date(&r.birth_date),
                hukou: r.hukou.clone(),
                hukou_place: r.hukou_place.clone(),
                land_expropriated: r.land_expropriated != 0,
                residence_permit: r.residence_permit != 0,
                disability: r.disability_category.clone().zip(r.disability_grade),
                in_institution: r.in_institution != 0,
                low_income: r.low_income.clone(),
                pension_monthly: r.pension_monthly,
                zhinei: r
                    .zhinei_province
                    .clone()
                    .map(|p| (p, r.returned_on.as_deref().and_then(date))),
            },
            jobs,
            unemployment_registered: reg.as_deref().and_then(date),
            assessment: assessment.and_then(|(level, a, v)| {
                Some(AssessmentFacts {
                    level,
                    assessed_on: date(&a)?,
                    valid_until: date(&v)?,
                })
            }),
            rural_subsidies: subs
                .into_iter()
                .filter_map(|(s, e)| Some((date(&s)?, date(&e)?)))
                .collect(),
            household_size,
            unemployment_insurance_months: r.ui_months,
        })
    }

    /// What QA planted for `operation` of this resident (`result_overrides`), if anything.
    pub async fn result_override(
        &self,
        id_number: &str,
        operation: &str,
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
        let raw: Option<String> = sqlx::query_scalar(
            "SELECT o.result FROM result_overrides o JOIN residents r ON r.id = o.resident_id WHERE r.id_number = ? AND o.operation = ?",
        )
        .bind(id_number.trim().to_ascii_uppercase())
        .bind(operation)
        .fetch_optional(&self.pool)
        .await?;
        Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Write test residents, replacing any resident with the same ID number (and all their
    /// rows). One transaction: on any error nothing is written.
    ///
    /// # Errors
    /// [`crate::Error::Fixture`] for a fixture that conflicts with the database (named by its
    /// line), [`crate::Error::Database`] otherwise.
    pub async fn load_fixtures(&self, fixtures: &[crate::fixtures::Fixture]) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        for f in fixtures {
            crate::fixtures::write(&mut tx, f).await?;
        }
        tx.commit().await?;
        Ok(fixtures.len())
    }
}

async fn seed_cases(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    w: &World,
    cfg: &crate::Config,
) -> Result<()> {
    let mut rng = Rng::new(cfg.seed.wrapping_add(17));
    const SOURCES: [&str; 6] = ["窗口", "窗口", "全市通办", "一网通办", "长三角", "自助机"];
    const CLERKS: [&str; 8] = [
        "受理员01",
        "受理员02",
        "受理员03",
        "受理员05",
        "受理员08",
        "受理员11",
        "受理员13",
        "受理员21",
    ];
    const COMMENTS_GOOD: [&str; 5] = [
        "办事效率高，工作人员很耐心",
        "一次就办好了",
        "材料讲得很清楚",
        "不用跑第二次，很方便",
        "等候时间短",
    ];
    const COMMENTS_BAD: [&str; 3] = [
        "排队时间较长",
        "材料要求没有一次说清楚",
        "系统卡顿，等了很久",
    ];
    let n_cases = (w.residents.len() * 3 / 10).max(50);
    let mut cases = Vec::with_capacity(n_cases);
    let mut traj = Vec::new();
    let mut ratings = Vec::new();
    for i in 0..n_cases {
        let r = &w.residents[rng.below(w.residents.len() as u64) as usize];
        let m = rng.pick(&MATTERS);
        let source = *rng.pick(&SOURCES);
        // A tenth of the cases are from today, called by a queue ticket at a window.
        let today_case = rng.chance(0.1);
        let days_ago = if today_case { 0 } else { rng.range(1, 400) };
        let day = cfg.today - chrono::Duration::days(days_ago);
        let at = format!("{} {:02}:{:02}:00", day, rng.range(9, 16), rng.range(0, 59));
        let status = if days_ago == 0 {
            *rng.pick(&["待受理", "已受理"])
        } else if days_ago < 20 {
            *rng.pick(&["已受理", "审核中", "待补正", "已办结"])
        } else {
            *rng.pick(&["已办结", "已办结", "已办结", "不予受理"])
        };
        let case_no = format!("SL{}{:06}", day.format("%Y%m%d"), i + 1);
        let window = if source == "窗口" || today_case {
            Some(format!("{}号窗口", rng.range(1, 12)))
        } else {
            None
        };
        let ticket = if today_case {
            Some(format!(
                "{}{:03}",
                rng.pick(&["A", "B", "C"]),
                rng.range(1, 60)
            ))
        } else {
            None
        };
        let clerk = *rng.pick(&CLERKS);
        let street = r.street;
        let nodes: &[(&str, &str)] = match status {
            "待受理" => &[("收件", "系统")],
            "已受理" => &[("收件", "系统"), ("受理", "窗口")],
            "审核中" => &[("收件", "系统"), ("受理", "窗口"), ("审核", "区级部门")],
            "待补正" => &[("收件", "系统"), ("受理", "窗口"), ("退回补正", "区级部门")],
            "不予受理" => &[("收件", "系统"), ("不予受理", "窗口")],
            _ => &[
                ("收件", "系统"),
                ("受理", "窗口"),
                ("审核", "区级部门"),
                ("审批", "区级部门"),
                ("办结", "区级部门"),
            ],
        };
        for (seq, (node, actor)) in nodes.iter().enumerate() {
            let t = day + chrono::Duration::days((seq as i64 * 2).min(days_ago));
            let note = match *node {
                "收件" => format!("通过{source}收件"),
                "受理" => format!("{}{}受理", street, clerk),
                "退回补正" => "材料不齐，请补充户口簿复印件".to_string(),
                "办结" => "审批通过，结果已送达".to_string(),
                other => format!("{other}环节处理中"),
            };
            traj.push((
                case_no.clone(),
                seq as i64 + 1,
                format!("{t} {:02}:{:02}:00", 9 + seq, rng.range(0, 59)),
                *node,
                *actor,
                note,
            ));
        }
        if status == "已办结" && rng.chance(0.7) {
            let good = rng.chance(0.9);
            let level = if good {
                *rng.pick(&["非常满意", "非常满意", "满意", "基本满意"])
            } else {
                *rng.pick(&["不满意", "非常不满意"])
            };
            let comment = if good {
                *rng.pick(&COMMENTS_GOOD)
            } else {
                *rng.pick(&COMMENTS_BAD)
            };
            let rectification = if good {
                "无需整改"
            } else {
                *rng.pick(&["整改中", "已整改", "已回访"])
            };
            ratings.push((
                format!("HCP{}{:06}", day.format("%Y%m"), i + 1),
                case_no.clone(),
                *rng.pick(&["窗口评价器", "一网通办", "随申办", "短信", "12345热线"]),
                level,
                format!("{day} 17:00:00"),
                comment,
                rectification,
                r.id,
                *rng.pick(&["本人", "代理人"]),
            ));
        }
        cases.push((
            case_no,
            m.0,
            r.id,
            status,
            source,
            at,
            street,
            DISTRICTS[r.district].name,
            window,
            clerk,
            ticket,
        ));
    }
    for chunk in cases.chunks(400) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO cases (case_no, matter_code, resident_id, status, source, submitted_at, street, district, window_no, clerk, ticket_no) ",
        );
        qb.push_values(chunk, |mut b, c| {
            b.push_bind(&c.0)
                .push_bind(c.1)
                .push_bind(c.2)
                .push_bind(c.3)
                .push_bind(c.4)
                .push_bind(&c.5)
                .push_bind(c.6)
                .push_bind(c.7)
                .push_bind(&c.8)
                .push_bind(c.9)
                .push_bind(&c.10);
        });
        qb.build().execute(&mut **tx).await?;
    }
    for chunk in traj.chunks(800) {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO trajectory (case_no, seq, at, node, actor, note) ");
        qb.push_values(chunk, |mut b, t| {
            b.push_bind(&t.0)
                .push_bind(t.1)
                .push_bind(&t.2)
                .push_bind(t.3)
                .push_bind(t.4)
                .push_bind(&t.5);
        });
        qb.build().execute(&mut **tx).await?;
    }
    for chunk in ratings.chunks(500) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO ratings (rating_id, case_no, channel, level, rated_at, comment, rectification, rater_resident_id, evaluator_type) ",
        );
        qb.push_values(chunk, |mut b, t| {
            b.push_bind(&t.0)
                .push_bind(&t.1)
                .push_bind(t.2)
                .push_bind(t.3)
                .push_bind(&t.4)
                .push_bind(t.5)
                .push_bind(t.6)
                .push_bind(t.7)
                .push_bind(t.8);
        });
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}
