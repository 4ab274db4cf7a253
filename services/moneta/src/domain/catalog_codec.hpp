/// @file services/moneta/src/domain/catalog_codec.hpp
/// @brief Strict decoding of the internal API's account/content JSON (the same text is cached in
/// Redis, so one decoder serves both the cache hit and the miss path).
///
/// Every number the decoder reads is range-checked here, once: a bad cache entry or a bad
/// internal-API answer is refused as a whole (the caller answers 502 UPSTREAM_ERROR on a miss and
/// refetches on a hit), so no later rule ever sees NaN, a negative duration, credits after the
/// end, a window that ends before it starts, a plan of 0 or 10^9 streams, or a fractional height.
#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <string_view>

#include "domain/catalog.hpp"
#include "moneta/core/result.hpp"

namespace moneta::domain {

/// Bounds of the catalog's numbers (docs/data.md "Catalog numbers").
inline constexpr double kMaxDurationSec = 7 * 86400.0;          ///< a week: no title is longer
inline constexpr std::int64_t kMaxEpochMs = 253'402'300'799'999;  ///< 9999-12-31T23:59:59.999Z
inline constexpr int kMaxStreams = 100;                         ///< plan.max_streams in 1..100
inline constexpr int kMaxHeight = 8640;                         ///< video lines ("16K")
inline constexpr int kMaxRank = 1000;                           ///< plan.rank in 0..1000
inline constexpr int kMaxAgeRating = 99;                        ///< ratings in 0..99
inline constexpr int kMaxChannels = 64;                         ///< audio channels in 1..64

/// Why a document was refused: the field and the rule it broke. Both are static texts (no
/// allocation), fit for a log line; never sent to a client (which sees UPSTREAM_ERROR).
struct CatalogProblem {
    std::string_view field;  ///< "duration_sec", "plan.max_streams", "renditions[].max_height"; "" = the document
    std::string_view rule;   ///< "must be a number in (0, 604800]"
};

/// Decodes `GET /internal/v1/accounts/{id}`. Unknown fields are ignored (the system of record
/// may add fields); missing, mistyped or out-of-range known fields refuse the document.
boost::system::result<Account, CatalogProblem> check_account(std::string_view json);

/// Decodes `GET /internal/v1/contents/{id}`, same rules.
boost::system::result<Content, CatalogProblem> check_content(std::string_view json);

/// check_account with the problem folded into Errc::kProtocolError.
core::Result<Account> decode_account(std::string_view json);

/// check_content with the problem folded into Errc::kProtocolError.
core::Result<Content> decode_content(std::string_view json);

}  // namespace moneta::domain
