/// @file services/moneta/src/domain/catalog_codec.hpp
/// @brief Strict decoding of the internal API's account/content JSON (the same text is cached in
/// Redis, so one decoder serves both the cache hit and the miss path).
#pragma once

#include <string_view>

#include "domain/catalog.hpp"
#include "moneta/core/result.hpp"

namespace moneta::domain {

/// Decodes `GET /internal/v1/accounts/{id}`. Unknown fields are ignored (the system of record
/// may add fields); missing or mistyped known fields are a protocol error.
core::Result<Account> decode_account(std::string_view json);

/// Decodes `GET /internal/v1/contents/{id}`. A negative `duration_sec` or `credits_start_sec` is
/// a protocol error too.
core::Result<Content> decode_content(std::string_view json);

}  // namespace moneta::domain
