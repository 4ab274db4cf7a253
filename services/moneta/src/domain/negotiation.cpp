#include "domain/negotiation.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <tuple>

namespace moneta::domain {
namespace {

constexpr int kHdHeight = 1080;

template <class C>
int index_of(const C& list, std::string_view v) noexcept {
    const auto it = std::find(list.begin(), list.end(), v);
    return it == list.end() ? -1 : static_cast<int>(it - list.begin());
}

int codec_rank(std::string_view codec) noexcept {
    if (codec == "av1") {
        return 3;
    }
    if (codec == "hevc") {
        return 2;
    }
    return codec == "avc" ? 1 : 0;
}

}  // namespace

std::optional<StreamSelection> select_stream(const Content& content, const Plan& plan,
                                             const Capabilities& caps) noexcept {
    int cap = std::min(plan.max_height > 0 ? plan.max_height : kHdHeight, caps.max_height);
    if (!plan.uhd) {
        cap = std::min(cap, kHdHeight);
    }
    std::optional<StreamSelection> best;
    // Larger tuple = better (see the header for the order).
    std::tuple<bool, int, bool, int, int> best_score{};
    for (const Rendition& r : content.renditions) {
        const int protocol_pos = index_of(caps.protocols, r.protocol);
        if (protocol_pos < 0 || index_of(caps.video_codecs, r.video_codec) < 0) {
            continue;
        }
        if (r.hdr && (!plan.hdr || index_of(caps.hdr, *r.hdr) < 0)) {
            continue;
        }
        std::string_view drm = "none";
        if (!r.drm.empty()) {
            drm = {};
            for (const std::string_view d : caps.drm) {
                if (index_of(r.drm, d) >= 0) {
                    drm = d;
                    break;
                }
            }
            if (drm.empty()) {
                continue;
            }
        }
        const bool fits = r.max_height <= cap;
        const int height = std::min(r.max_height, cap);
        const auto score = std::make_tuple(fits, height, r.hdr.has_value(), codec_rank(r.video_codec),
                                           -protocol_pos);
        if (!best || score > best_score) {
            best_score = score;
            std::optional<std::string_view> hdr;
            if (r.hdr) {
                hdr = *r.hdr;
            }
            best = StreamSelection{r.protocol, drm, r.video_codec, height, hdr, r.path, content.drm_cid};
        }
    }
    return best;
}

std::string encode_selection(const StreamSelection& s) {
    std::string out;
    out.reserve(64 + s.path.size());
    out.append(s.protocol).append("|").append(s.drm_system).append("|").append(s.video_codec).append("|");
    out.append(std::to_string(s.max_height)).append("|").append(s.hdr.value_or("")).append("|");
    out.append(s.path).append("|").append(s.drm_cid);
    return out;
}

std::optional<StreamSelection> decode_selection(std::string_view text) {
    std::array<std::string_view, 7> f;
    for (std::size_t i = 0; i < f.size(); ++i) {
        const auto bar = text.find('|');
        if ((bar == std::string_view::npos) != (i + 1 == f.size())) {
            return std::nullopt;
        }
        f[i] = text.substr(0, bar);
        text = bar == std::string_view::npos ? std::string_view{} : text.substr(bar + 1);
    }
    StreamSelection s;
    const auto r = std::from_chars(f[3].data(), f[3].data() + f[3].size(), s.max_height);
    if (r.ec != std::errc{} || r.ptr != f[3].data() + f[3].size() || f[0].empty() || f[5].empty()) {
        return std::nullopt;
    }
    s.protocol = f[0];
    s.drm_system = f[1];
    s.video_codec = f[2];
    if (!f[4].empty()) {
        s.hdr = f[4];
    }
    s.path = f[5];
    s.drm_cid = f[6];
    return s;
}

}  // namespace moneta::domain
