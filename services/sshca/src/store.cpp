#include "store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <map>

#include "name_list.hpp"

namespace moneta::sshca {
namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
PRAGMA busy_timeout=5000;
PRAGMA foreign_keys=ON;
CREATE TABLE IF NOT EXISTS cas (
  fingerprint TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('user', 'host')),
  public_key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS certs (
  serial INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'host')),
  subject TEXT NOT NULL, key_id TEXT NOT NULL, principals TEXT NOT NULL,
  valid_after INTEGER NOT NULL, valid_before INTEGER NOT NULL,
  key_fingerprint TEXT NOT NULL, public_key TEXT NOT NULL,
  ca_fingerprint TEXT NOT NULL REFERENCES cas(fingerprint),
  issued_at_ms INTEGER NOT NULL, revoked_at_ms INTEGER);
CREATE INDEX IF NOT EXISTS certs_subject ON certs(subject, serial);
CREATE INDEX IF NOT EXISTS certs_key_id ON certs(key_id);
CREATE INDEX IF NOT EXISTS certs_key ON certs(key_fingerprint);
CREATE TABLE IF NOT EXISTS revocations (
  id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('serial', 'key_id', 'public_key')),
  value TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('krl_version', 0), ('krl_generated_s', 0);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, event TEXT NOT NULL,
  actor TEXT NOT NULL, ip TEXT NOT NULL, request_id TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at_ms);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";

/// One prepared statement, finalized on scope exit; binds by position from 1.
class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) { ok_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK; }
    ~Stmt() { sqlite3_finalize(stmt_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& bind(std::string_view v) {
        ok_ = ok_ && sqlite3_bind_text(stmt_, ++n_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) == SQLITE_OK;
        return *this;
    }
    Stmt& bind(std::int64_t v) {
        ok_ = ok_ && sqlite3_bind_int64(stmt_, ++n_, v) == SQLITE_OK;
        return *this;
    }
    /// SQLITE_ROW, SQLITE_DONE or an error code.
    int step() { return ok_ ? sqlite3_step(stmt_) : SQLITE_ERROR; }
    bool run() { return step() == SQLITE_DONE; }
    std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
    bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
    std::string text(int col) const {
        const auto* p = sqlite3_column_text(stmt_, col);
        return p != nullptr ? std::string(reinterpret_cast<const char*>(p),
                                          static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
                            : std::string();
    }

private:
    sqlite3_stmt* stmt_ = nullptr;
    int n_ = 0;
    bool ok_ = false;
};

constexpr const char* kCertColumns =
    "serial, kind, subject, key_id, principals, valid_after, valid_before, key_fingerprint, public_key, "
    "ca_fingerprint, issued_at_ms, revoked_at_ms";

CertRow read_cert(const Stmt& s) {
    CertRow r;
    r.serial = static_cast<std::uint64_t>(s.integer(0));
    r.cert.kind = s.text(1) == "host" ? CertKind::kHost : CertKind::kUser;
    r.cert.subject = s.text(2);
    r.cert.key_id = s.text(3);
    r.cert.principals = split_names(s.text(4));
    r.cert.valid_after = s.integer(5);
    r.cert.valid_before = s.integer(6);
    r.cert.key_fingerprint = s.text(7);
    r.cert.public_key = s.text(8);
    r.cert.ca_fingerprint = s.text(9);
    r.cert.issued_at_ms = s.integer(10);
    if (!s.is_null(11)) {
        r.revoked_at_ms = s.integer(11);
    }
    return r;
}

}  // namespace

StoreResult<Store> Store::open(const std::filesystem::path& path) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        return {boost::system::in_place_error, path.string() + ": " + msg};
    }
    Store s(db);
    if (!s.exec(kSchema)) {
        return {boost::system::in_place_error, path.string() + ": " + s.error()};
    }
    return s;
}

Store::Store(Store&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
Store::~Store() { sqlite3_close(db_); }

bool Store::exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }
std::string Store::error() const { return sqlite3_errmsg(db_); }

StoreResult<void> Store::remember_ca(std::string_view role, std::string_view fingerprint, std::string_view public_key) {
    Stmt s(db_, "INSERT OR IGNORE INTO cas (fingerprint, role, public_key) VALUES (?1, ?2, ?3)");
    if (!s.bind(fingerprint).bind(role).bind(public_key).run()) {
        return {boost::system::in_place_error, error()};
    }
    return {};
}

StoreResult<std::uint64_t> Store::issue(
    const NewCert& c, const std::function<boost::system::result<void, std::string>(std::uint64_t)>& sign) {
    if (!exec("BEGIN IMMEDIATE")) {
        return {boost::system::in_place_error, error()};
    }
    Stmt s(db_,
           "INSERT INTO certs (kind, subject, key_id, principals, valid_after, valid_before, key_fingerprint, "
           "public_key, ca_fingerprint, issued_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!s.bind(c.kind == CertKind::kHost ? "host" : "user")
             .bind(c.subject)
             .bind(c.key_id)
             .bind(join_names(c.principals))
             .bind(c.valid_after)
             .bind(c.valid_before)
             .bind(c.key_fingerprint)
             .bind(c.public_key)
             .bind(c.ca_fingerprint)
             .bind(c.issued_at_ms)
             .run()) {
        std::string why = error();
        exec("ROLLBACK");
        return {boost::system::in_place_error, why};
    }
    const auto serial = static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db_));
    if (auto signed_ok = sign(serial); !signed_ok) {
        exec("ROLLBACK");
        return {boost::system::in_place_error, signed_ok.error()};
    }
    if (!exec("COMMIT")) {
        std::string why = error();
        exec("ROLLBACK");
        return {boost::system::in_place_error, why};
    }
    return serial;
}

std::vector<CertRow> Store::certs(std::optional<std::string_view> subject, bool active_only, std::int64_t now_s,
                                  std::size_t limit) {
    const std::string sql = std::string("SELECT ") + kCertColumns +
                            " FROM certs WHERE (?1 = '' OR subject = ?2) AND (?3 = 0 OR (revoked_at_ms IS NULL AND "
                            "valid_before > ?4)) ORDER BY serial DESC LIMIT ?5";
    Stmt s(db_, sql.c_str());
    s.bind(subject ? "1" : "").bind(subject.value_or("")).bind(active_only ? 1 : 0).bind(now_s).bind(
        static_cast<std::int64_t>(limit));
    std::vector<CertRow> out;
    while (s.step() == SQLITE_ROW) {
        out.push_back(read_cert(s));
    }
    return out;
}

std::int64_t Store::user_certs_since(std::string_view subject, std::int64_t since_ms) {
    Stmt s(db_, "SELECT COUNT(*) FROM certs WHERE kind = 'user' AND subject = ?1 AND issued_at_ms >= ?2");
    return s.bind(subject).bind(since_ms).step() == SQLITE_ROW ? s.integer(0) : 0;
}

std::uint64_t Store::bump_version(std::int64_t now_ms) {
    Stmt up(db_, "UPDATE meta SET value = value + 1 WHERE name = 'krl_version'");
    Stmt at(db_, "UPDATE meta SET value = ?1 WHERE name = 'krl_generated_s'");
    Stmt get(db_, "SELECT value FROM meta WHERE name = 'krl_version'");
    if (!up.run() || !at.bind(now_ms / 1000).run() || get.step() != SQLITE_ROW) {
        return 0;
    }
    return static_cast<std::uint64_t>(get.integer(0));
}

bool Store::record_revocation(std::string_view kind, std::string_view value, std::string_view reason,
                              std::string_view actor, std::int64_t now_ms) {
    Stmt s(db_, "INSERT INTO revocations (at_ms, kind, value, reason, actor) VALUES (?1, ?2, ?3, ?4, ?5)");
    return s.bind(now_ms).bind(kind).bind(value).bind(reason).bind(actor).run();
}

template <class F>
StoreResult<Revoked> Store::in_transaction(F&& body) {
    if (!exec("BEGIN IMMEDIATE")) {
        return {boost::system::in_place_error, error()};
    }
    Revoked out;
    if (!body(out) || !exec("COMMIT")) {
        std::string why = error();
        exec("ROLLBACK");
        return {boost::system::in_place_error, why};
    }
    return out;
}

namespace {

/// Marks the matching unrevoked certificates and returns their serials. @p where names the
/// value as ?1.
/// Appends them to @p out; false when the update failed (the transaction is rolled back).
bool mark(sqlite3* db, const std::string& where, std::string_view value, std::int64_t now_ms,
          std::vector<std::uint64_t>& out) {
    std::vector<std::uint64_t>& serials = out;
    Stmt find(db, ("SELECT serial FROM certs WHERE " + where + " AND revoked_at_ms IS NULL").c_str());
    find.bind(value);
    while (find.step() == SQLITE_ROW) {
        serials.push_back(static_cast<std::uint64_t>(find.integer(0)));
    }
    Stmt up(db, ("UPDATE certs SET revoked_at_ms = ?2 WHERE " + where + " AND revoked_at_ms IS NULL").c_str());
    return up.bind(value).bind(now_ms).run();
}

bool exists(sqlite3* db, const char* sql, std::string_view value) {
    Stmt s(db, sql);
    return s.bind(value).step() == SQLITE_ROW;
}

}  // namespace

StoreResult<Revoked> Store::revoke_matching(const char* where, std::string_view value, std::string_view kind,
                                            std::string_view recorded, std::string_view reason, std::string_view actor,
                                            std::int64_t now_ms) {
    return in_transaction([&](Revoked& out) {
        if (!mark(db_, where, value, now_ms, out.serials)) {
            return false;
        }
        out.krl_version = bump_version(now_ms);
        return out.krl_version != 0 && record_revocation(kind, recorded, reason, actor, now_ms);
    });
}

StoreResult<std::optional<Revoked>> Store::revoke_serial(std::uint64_t serial, std::string_view reason,
                                                         std::string_view actor, std::int64_t now_ms) {
    const std::string value = std::to_string(serial);
    if (!exists(db_, "SELECT 1 FROM certs WHERE serial = CAST(?1 AS INTEGER)", value)) {
        return std::optional<Revoked>();
    }
    auto r = revoke_matching("serial = CAST(?1 AS INTEGER)", value, "serial", value, reason, actor, now_ms);
    if (!r) {
        return {boost::system::in_place_error, r.error()};
    }
    return std::optional<Revoked>(std::move(*r));
}

StoreResult<std::optional<Revoked>> Store::revoke_key_id(std::string_view key_id, std::string_view reason,
                                                         std::string_view actor, std::int64_t now_ms) {
    if (!exists(db_, "SELECT 1 FROM certs WHERE key_id = ?1", key_id)) {
        return std::optional<Revoked>();
    }
    auto r = revoke_matching("key_id = ?1", key_id, "key_id", key_id, reason, actor, now_ms);
    if (!r) {
        return {boost::system::in_place_error, r.error()};
    }
    return std::optional<Revoked>(std::move(*r));
}

StoreResult<Revoked> Store::revoke_public_key(std::string_view public_key_line, std::string_view fingerprint,
                                              std::string_view reason, std::string_view actor, std::int64_t now_ms) {
    return revoke_matching("key_fingerprint = ?1", fingerprint, "public_key", public_key_line, reason, actor, now_ms);
}

StoreResult<Revoked> Store::revoke_user(std::string_view user, std::string_view reason, std::string_view actor,
                                        std::int64_t now_ms) {
    return in_transaction([&](Revoked& out) {
        // The user's unexpired certificates: each serial, and each distinct public key (so a key
        // the user still holds cannot be certified again without a new revocation check).
        std::map<std::string, std::string> keys;  // fingerprint -> line
        std::vector<std::uint64_t> serials;
        {
            Stmt s(db_,
                   "SELECT serial, key_fingerprint, public_key FROM certs WHERE kind = 'user' AND subject = ?1 AND "
                   "valid_before > ?2");
            s.bind(user).bind(now_ms / 1000);
            while (s.step() == SQLITE_ROW) {
                serials.push_back(static_cast<std::uint64_t>(s.integer(0)));
                keys.emplace(s.text(1), s.text(2));
            }
        }
        for (const std::uint64_t serial : serials) {
            const std::string value = std::to_string(serial);
            if (!mark(db_, "serial = CAST(?1 AS INTEGER)", value, now_ms, out.serials) ||
                !record_revocation("serial", value, reason, actor, now_ms)) {
                return false;
            }
        }
        for (const auto& [fingerprint, line] : keys) {
            if (!mark(db_, "key_fingerprint = ?1", fingerprint, now_ms, out.serials) ||
                !record_revocation("public_key", line, reason, actor, now_ms)) {
                return false;
            }
        }
        std::sort(out.serials.begin(), out.serials.end());
        out.serials.erase(std::unique(out.serials.begin(), out.serials.end()), out.serials.end());
        out.krl_version = bump_version(now_ms);
        return out.krl_version != 0;
    });
}

StoreResult<RevocationState> Store::revocation_state() {
    RevocationState st;
    {
        Stmt s(db_, "SELECT name, value FROM meta");
        while (s.step() == SQLITE_ROW) {
            if (s.text(0) == "krl_version") {
                st.version = static_cast<std::uint64_t>(s.integer(1));
            } else {
                st.generated_s = s.integer(1);
            }
        }
    }
    {
        Stmt s(db_,
               "SELECT cas.public_key, certs.serial FROM revocations JOIN certs ON revocations.kind = 'serial' AND "
               "certs.serial = CAST(revocations.value AS INTEGER) JOIN cas ON cas.fingerprint = certs.ca_fingerprint "
               "ORDER BY cas.public_key, certs.serial");
        while (s.step() == SQLITE_ROW) {
            std::string ca = s.text(0);
            if (st.serials.empty() || st.serials.back().ca_public_key != ca) {
                st.serials.push_back({std::move(ca), {}});
            }
            st.serials.back().serials.push_back(static_cast<std::uint64_t>(s.integer(1)));
        }
    }
    {
        Stmt s(db_, "SELECT DISTINCT value FROM revocations WHERE kind = 'key_id' ORDER BY value");
        while (s.step() == SQLITE_ROW) {
            st.key_ids.push_back(s.text(0));
        }
    }
    {
        Stmt s(db_, "SELECT DISTINCT value FROM revocations WHERE kind = 'public_key' ORDER BY value");
        while (s.step() == SQLITE_ROW) {
            st.public_keys.push_back(s.text(0));
        }
    }
    {
        Stmt s(db_, "SELECT public_key FROM cas WHERE role = 'user' ORDER BY public_key");
        while (s.step() == SQLITE_ROW) {
            st.user_ca_public_keys.push_back(s.text(0));
        }
    }
    return st;
}

StoreResult<void> Store::audit(const AuditEvent& e) {
    Stmt s(db_, "INSERT INTO audit (at_ms, event, actor, ip, request_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!s.bind(e.at_ms).bind(e.event).bind(e.actor).bind(e.ip).bind(e.request_id).bind(e.detail).run()) {
        return {boost::system::in_place_error, error()};
    }
    return {};
}

std::vector<AuditEvent> Store::audit_since(std::int64_t since_ms, std::size_t limit) {
    Stmt s(db_,
           "SELECT id, at_ms, event, actor, ip, request_id, detail FROM audit WHERE at_ms >= ?1 ORDER BY id LIMIT ?2");
    s.bind(since_ms).bind(static_cast<std::int64_t>(limit));
    std::vector<AuditEvent> out;
    while (s.step() == SQLITE_ROW) {
        out.push_back(AuditEvent{s.integer(0), s.integer(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6)});
    }
    return out;
}

}  // namespace moneta::sshca
