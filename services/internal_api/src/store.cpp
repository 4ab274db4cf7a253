#include "store.hpp"

namespace moneta::internal_api {

namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
PRAGMA busy_timeout=5000;
CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contents (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS progress (
  profile_id TEXT NOT NULL, content_id TEXT NOT NULL,
  position_sec REAL NOT NULL, duration_sec REAL NOT NULL, completed INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (profile_id, content_id));
CREATE INDEX IF NOT EXISTS progress_recent ON progress(profile_id, updated_at_ms DESC);
)sql";

// Newer (updated_at_ms, seq) wins; an equal pair is idempotent (counted stale, nothing changes).
constexpr const char* kUpsert = R"sql(
INSERT INTO progress (profile_id, content_id, position_sec, duration_sec, completed, updated_at_ms, seq)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (profile_id, content_id) DO UPDATE SET
  position_sec = excluded.position_sec, duration_sec = excluded.duration_sec,
  completed = excluded.completed, updated_at_ms = excluded.updated_at_ms, seq = excluded.seq
WHERE (excluded.updated_at_ms, excluded.seq) > (progress.updated_at_ms, progress.seq)
)sql";

}  // namespace

boost::system::result<Store, std::string> Store::open(const std::filesystem::path& path) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        return {boost::system::in_place_error, path.string() + ": " + msg};
    }
    Store s(db);
    if (!s.exec(kSchema)) {
        return {boost::system::in_place_error, path.string() + ": " + sqlite3_errmsg(db)};
    }
    if (sqlite3_prepare_v2(db, "SELECT doc FROM accounts WHERE id = ?1", -1, &s.get_account_, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT doc FROM contents WHERE id = ?1", -1, &s.get_content_, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db, kUpsert, -1, &s.upsert_, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT 1 FROM contents WHERE id = ?1", -1, &s.has_content_, nullptr) != SQLITE_OK) {
        return {boost::system::in_place_error, path.string() + ": " + sqlite3_errmsg(db)};
    }
    return s;
}

Store::Store(Store&& o) noexcept
    : db_(o.db_),
      get_account_(o.get_account_),
      get_content_(o.get_content_),
      upsert_(o.upsert_),
      has_content_(o.has_content_) {
    o.db_ = nullptr;
    o.get_account_ = o.get_content_ = o.upsert_ = o.has_content_ = nullptr;
}

Store::~Store() {
    sqlite3_finalize(get_account_);
    sqlite3_finalize(get_content_);
    sqlite3_finalize(upsert_);
    sqlite3_finalize(has_content_);
    sqlite3_close(db_);
}

bool Store::exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

boost::system::result<void, std::string> Store::load(const Fixtures& f) {
    if (!exec("BEGIN IMMEDIATE; DELETE FROM accounts; DELETE FROM contents;")) {
        return {boost::system::in_place_error, sqlite3_errmsg(db_)};
    }
    sqlite3_stmt* acc = nullptr;
    sqlite3_stmt* con = nullptr;
    sqlite3_prepare_v2(db_, "INSERT INTO accounts (id, doc) VALUES (?1, ?2)", -1, &acc, nullptr);
    sqlite3_prepare_v2(db_, "INSERT INTO contents (id, doc) VALUES (?1, ?2)", -1, &con, nullptr);
    bool ok = acc != nullptr && con != nullptr;
    for (const auto& [stmt, docs] : {std::pair{acc, &f.accounts}, std::pair{con, &f.contents}}) {
        for (const auto& [id, doc] : *docs) {
            if (!ok) {
                break;
            }
            sqlite3_bind_text(stmt, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
            sqlite3_bind_text(stmt, 2, doc.data(), static_cast<int>(doc.size()), SQLITE_STATIC);
            ok = sqlite3_step(stmt) == SQLITE_DONE;
            sqlite3_reset(stmt);
        }
    }
    sqlite3_finalize(acc);
    sqlite3_finalize(con);
    if (!ok || !exec("COMMIT;")) {
        std::string msg = sqlite3_errmsg(db_);
        exec("ROLLBACK;");
        return {boost::system::in_place_error, msg};
    }
    auto up = upsert_progress(f.progress);
    if (!up) {
        return {boost::system::in_place_error, up.error()};
    }
    return {};
}

std::optional<std::string> Store::document(sqlite3_stmt* stmt, std::string_view id) {
    sqlite3_bind_text(stmt, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
    std::optional<std::string> out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        out.emplace(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                    static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0)));
    }
    sqlite3_reset(stmt);
    return out;
}

std::optional<std::string> Store::account(std::string_view id) { return document(get_account_, id); }
std::optional<std::string> Store::content(std::string_view id) { return document(get_content_, id); }

boost::system::result<UpsertResult, std::string> Store::upsert_progress(const std::vector<ProgressRow>& rows) {
    UpsertResult r;
    if (!exec("BEGIN IMMEDIATE;")) {
        return {boost::system::in_place_error, sqlite3_errmsg(db_)};
    }
    for (const ProgressRow& p : rows) {
        sqlite3_bind_text(upsert_, 1, p.profile_id.data(), static_cast<int>(p.profile_id.size()), SQLITE_STATIC);
        sqlite3_bind_text(upsert_, 2, p.content_id.data(), static_cast<int>(p.content_id.size()), SQLITE_STATIC);
        sqlite3_bind_double(upsert_, 3, p.position_sec);
        sqlite3_bind_double(upsert_, 4, p.duration_sec);
        sqlite3_bind_int(upsert_, 5, p.completed ? 1 : 0);
        sqlite3_bind_int64(upsert_, 6, p.updated_at_ms);
        sqlite3_bind_int64(upsert_, 7, p.seq);
        if (sqlite3_step(upsert_) != SQLITE_DONE) {
            std::string msg = sqlite3_errmsg(db_);
            sqlite3_reset(upsert_);
            exec("ROLLBACK;");
            return {boost::system::in_place_error, msg};
        }
        (sqlite3_changes(db_) > 0 ? r.applied : r.stale)++;
        sqlite3_reset(upsert_);
    }
    if (!exec("COMMIT;")) {
        std::string msg = sqlite3_errmsg(db_);
        exec("ROLLBACK;");
        return {boost::system::in_place_error, msg};
    }
    return r;
}

std::optional<std::size_t> Store::first_unknown_content(const std::vector<ProgressRow>& rows) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const std::string& id = rows[i].content_id;
        sqlite3_bind_text(has_content_, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
        const bool known = sqlite3_step(has_content_) == SQLITE_ROW;
        sqlite3_reset(has_content_);
        if (!known) {
            return i;
        }
    }
    return std::nullopt;
}

std::vector<ProgressRow> Store::progress(std::string_view profile_id, const std::vector<std::string>& content_ids) {
    std::vector<ProgressRow> out;
    std::string sql =
        "SELECT content_id, position_sec, duration_sec, completed, updated_at_ms, seq FROM progress WHERE profile_id = ?1";
    if (!content_ids.empty()) {
        sql += " AND content_id IN (";
        for (std::size_t i = 0; i < content_ids.size(); ++i) {
            sql += i == 0 ? "?" : ",?";
            sql += std::to_string(i + 2);
        }
        sql += ")";
    }
    sql += " ORDER BY updated_at_ms DESC LIMIT 200";
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
        return out;
    }
    sqlite3_bind_text(stmt, 1, profile_id.data(), static_cast<int>(profile_id.size()), SQLITE_STATIC);
    for (std::size_t i = 0; i < content_ids.size(); ++i) {
        sqlite3_bind_text(stmt, static_cast<int>(i + 2), content_ids[i].data(), static_cast<int>(content_ids[i].size()),
                          SQLITE_STATIC);
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        ProgressRow r;
        r.profile_id = std::string(profile_id);
        r.content_id = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        r.position_sec = sqlite3_column_double(stmt, 1);
        r.duration_sec = sqlite3_column_double(stmt, 2);
        r.completed = sqlite3_column_int(stmt, 3) != 0;
        r.updated_at_ms = sqlite3_column_int64(stmt, 4);
        r.seq = sqlite3_column_int64(stmt, 5);
        out.push_back(std::move(r));
    }
    sqlite3_finalize(stmt);
    return out;
}

}  // namespace moneta::internal_api
