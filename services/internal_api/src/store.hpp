/// @file services/internal_api/src/store.hpp
/// @brief The system of record on SQLite (WAL): accounts and contents as JSON documents, progress
/// rows with the conditional upsert "newer (updated_at_ms, seq) wins". One Store per thread.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <boost/system/result.hpp>

#include "fixtures.hpp"

namespace moneta::internal_api {

struct UpsertResult {
    int applied = 0;
    int stale = 0;
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one connection per thread).
class Store {
public:
    static boost::system::result<Store, std::string> open(const std::filesystem::path& db);
    Store(Store&&) noexcept;
    Store& operator=(Store&&) = delete;
    ~Store();

    /// Replaces all accounts/contents with the fixtures' and inserts fixture progress (newer
    /// progress already in the db is kept: the upsert rule applies).
    boost::system::result<void, std::string> load(const Fixtures& f);

    std::optional<std::string> account(std::string_view id);
    std::optional<std::string> content(std::string_view id);
    /// One transaction for the whole batch.
    boost::system::result<UpsertResult, std::string> upsert_progress(const std::vector<ProgressRow>& rows);
    /// The index of the first row whose content the catalog does not know (nullopt: all known).
    /// A position for a title that does not exist is refused, not stored (422 UNKNOWN_CONTENT).
    std::optional<std::size_t> first_unknown_content(const std::vector<ProgressRow>& rows);
    /// Rows for @p content_ids (all when empty, newest first, at most 200).
    std::vector<ProgressRow> progress(std::string_view profile_id, const std::vector<std::string>& content_ids);

private:
    explicit Store(sqlite3* db) : db_(db) {}
    bool exec(const char* sql);
    std::optional<std::string> document(sqlite3_stmt* stmt, std::string_view id);
    sqlite3* db_ = nullptr;
    sqlite3_stmt* get_account_ = nullptr;
    sqlite3_stmt* get_content_ = nullptr;
    sqlite3_stmt* upsert_ = nullptr;
    sqlite3_stmt* has_content_ = nullptr;
};

}  // namespace moneta::internal_api
