#include "domain/tracks.hpp"

#include <string_view>

namespace moneta::domain {
namespace {

std::string_view primary(std::string_view tag) noexcept { return tag.substr(0, tag.find('-')); }

/// Index of the best match for @p want among @p langs: exact first, then primary language.
template <class Tracks>
std::optional<std::size_t> match(const Tracks& tracks, std::string_view want) noexcept {
    for (std::size_t i = 0; i < tracks.size(); ++i) {
        if (tracks[i].lang == want) {
            return i;
        }
    }
    for (std::size_t i = 0; i < tracks.size(); ++i) {
        if (primary(tracks[i].lang) == primary(want)) {
            return i;
        }
    }
    return std::nullopt;
}

}  // namespace

TrackChoice choose_tracks(const Content& content, const std::optional<std::string>& audio_lang,
                          const std::optional<std::string>& subtitle_lang) noexcept {
    TrackChoice out;
    if (audio_lang) {
        out.audio_default = match(content.audio, *audio_lang).value_or(0);
    }
    if (subtitle_lang) {
        out.subtitle_default = match(content.subtitles, *subtitle_lang);
    }
    return out;
}

}  // namespace moneta::domain
