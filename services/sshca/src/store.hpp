/// @file services/sshca/src/store.hpp
/// @brief The CA's records on SQLite (WAL): every certificate issued (the serial is the row id:
/// AUTOINCREMENT, so serials only grow and are never reused, which keeps the KRL's serial
/// ranges compact), every revocation, the KRL's version, the CA public keys ever used, and the
/// append-only audit log (UPDATE and DELETE on it are refused by triggers).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

struct sqlite3;

namespace moneta::sshca {

template <class T>
using StoreResult = boost::system::result<T, std::string>;

enum class CertKind : std::uint8_t { kUser, kHost };

/// A certificate about to be issued (the serial is not known yet).
struct NewCert {
    CertKind kind = CertKind::kUser;
    std::string subject;  ///< the user, or the host's first name
    std::string key_id;
    std::vector<std::string> principals;
    std::int64_t valid_after = 0;   ///< seconds
    std::int64_t valid_before = 0;  ///< seconds
    std::string key_fingerprint;    ///< SHA256:… of the subject key
    std::string public_key;         ///< the subject key's line (no comment)
    std::string ca_fingerprint;
    std::int64_t issued_at_ms = 0;
};

struct CertRow {
    std::uint64_t serial = 0;
    NewCert cert;
    std::optional<std::int64_t> revoked_at_ms;
};

/// What the KRL is built from.
struct RevocationState {
    std::uint64_t version = 0;         ///< 0: nothing was ever revoked
    std::int64_t generated_s = 0;      ///< when the last revocation happened
    struct CaSerials {
        std::string ca_public_key;      ///< the line of the CA that signed them
        std::vector<std::uint64_t> serials;
    };
    std::vector<CaSerials> serials;
    std::vector<std::string> key_ids;      ///< revoked under every user CA
    std::vector<std::string> public_keys;  ///< lines
    std::vector<std::string> user_ca_public_keys;
};

struct AuditEvent {
    std::int64_t id = 0;  ///< set by the store
    std::int64_t at_ms = 0;
    std::string event;  ///< issued, denied, revoked, auth_failed
    std::string actor;  ///< the user (or "host-token"), empty when unauthenticated
    std::string ip;
    std::string request_id;
    std::string detail;  ///< a JSON object
};

/// What one revocation request did.
struct Revoked {
    std::uint64_t krl_version = 0;
    std::vector<std::uint64_t> serials;  ///< certificates it marked revoked
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one connection; the server has one worker).
class Store {
public:
    static StoreResult<Store> open(const std::filesystem::path& db);
    Store(Store&&) noexcept;
    Store& operator=(Store&&) = delete;
    ~Store();

    /// Records the CA public key (idempotent). role: "user" or "host".
    StoreResult<void> remember_ca(std::string_view role, std::string_view fingerprint, std::string_view public_key);

    /// Inserts @p cert, then calls @p sign with its serial; commits only when sign succeeds
    /// (a refused signature leaves no row and no gap in anything but the serial sequence).
    /// @return the serial.
    StoreResult<std::uint64_t> issue(const NewCert& cert,
                                     const std::function<boost::system::result<void, std::string>(std::uint64_t)>& sign);

    /// Certificates, newest first, at most @p limit: all, or one subject's; only unexpired and
    /// unrevoked ones at @p now_s when @p active_only.
    std::vector<CertRow> certs(std::optional<std::string_view> subject, bool active_only, std::int64_t now_s,
                               std::size_t limit);

    /// How many user certificates @p subject was issued at or after @p since_ms (the per-user
    /// issuance bound: every certificate is a row kept for the audit trail).
    std::int64_t user_certs_since(std::string_view subject, std::int64_t since_ms);

    /// Revocations; each writes its row(s), marks the certificates, bumps the KRL version, in one
    /// transaction. nullopt from revoke_serial / revoke_key_id: no such certificate (nothing changes).
    StoreResult<std::optional<Revoked>> revoke_serial(std::uint64_t serial, std::string_view reason,
                                                      std::string_view actor, std::int64_t now_ms);
    StoreResult<std::optional<Revoked>> revoke_key_id(std::string_view key_id, std::string_view reason,
                                                      std::string_view actor, std::int64_t now_ms);
    /// The key and every certificate of it (any key may be revoked, even one never certified).
    StoreResult<Revoked> revoke_public_key(std::string_view public_key_line, std::string_view fingerprint,
                                           std::string_view reason, std::string_view actor, std::int64_t now_ms);
    /// Every unexpired certificate of @p user at @p now_ms, by serial and by its public key.
    StoreResult<Revoked> revoke_user(std::string_view user, std::string_view reason, std::string_view actor,
                                     std::int64_t now_ms);

    StoreResult<RevocationState> revocation_state();

    StoreResult<void> audit(const AuditEvent& e);
    /// Events with at_ms >= @p since_ms, oldest first, at most @p limit.
    std::vector<AuditEvent> audit_since(std::int64_t since_ms, std::size_t limit);

private:
    explicit Store(sqlite3* db) : db_(db) {}
    bool exec(const char* sql);
    std::string error() const;
    /// Inside a transaction: the revocation row, the marks, the version bump.
    bool record_revocation(std::string_view kind, std::string_view value, std::string_view reason,
                           std::string_view actor, std::int64_t now_ms);
    std::uint64_t bump_version(std::int64_t now_ms);
    template <class F>
    StoreResult<Revoked> in_transaction(F&& body);
    /// One transaction: the certificates matching @p where (?1 = @p value) marked, the KRL
    /// version bumped, the revocation recorded as @p kind / @p recorded.
    StoreResult<Revoked> revoke_matching(const char* where, std::string_view value, std::string_view kind,
                                         std::string_view recorded, std::string_view reason, std::string_view actor,
                                         std::int64_t now_ms);

    sqlite3* db_ = nullptr;
};

}  // namespace moneta::sshca
