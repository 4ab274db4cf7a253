/// @file services/moneta/src/domain/tracks.hpp
/// @brief Audio and subtitle tracks of a start response with their defaults (api.md §5.1). Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/catalog.hpp"

namespace moneta::domain {

struct TrackChoice {
    std::size_t audio_default = 0;           ///< index into content.audio (when not empty)
    std::optional<std::size_t> subtitle_default;  ///< index into content.subtitles, or none
};

/// Audio: the preferred language when the title has it (exact tag, else the same primary
/// language: "pt" matches "pt-BR"), else the first track (the title's original).
/// Subtitles: on by default only when the viewer asked for a language the title has (matched
/// the same way); otherwise none is on.
TrackChoice choose_tracks(const Content& content, const std::optional<std::string>& audio_lang,
                          const std::optional<std::string>& subtitle_lang) noexcept;

}  // namespace moneta::domain
