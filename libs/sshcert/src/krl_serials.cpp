#include "krl_serials.hpp"

#include <limits>
#include <string>

namespace moneta::sshcert::detail {
namespace {

struct Run {
    std::uint64_t lo;
    std::uint64_t hi;
    std::uint64_t size() const noexcept { return hi - lo + 1; }
};

/// One subsection: a type and the runs it covers, [first, last].
struct Section {
    std::uint8_t type;
    std::size_t first;
    std::size_t last;
};

// Bytes of each encoding, header (type byte + data length) included.
constexpr std::uint64_t kHeader = 1 + 4;
constexpr std::uint64_t kRangeCost = kHeader + 16;
// A bitmap spans at most this many serials (2 KiB): beyond that, lists and ranges are as small.
constexpr std::uint64_t kMaxBitmapBits = 16 * 1024;
// A section covers at most this many runs; bounds the search to O(runs * window).
constexpr std::size_t kWindow = 64;

std::uint64_t bitmap_cost(std::uint64_t bits) {
    // offset, then an mpint whose top bit is the last serial: one more byte when it is a byte's top.
    return kHeader + 8 + 4 + (bits + 7) / 8 + (bits % 8 == 0 ? 1 : 0);
}

std::vector<Run> runs_of(const std::vector<std::uint64_t>& serials) {
    std::vector<Run> runs;
    for (auto s : serials) {
        if (!runs.empty() && runs.back().hi != std::numeric_limits<std::uint64_t>::max() && s == runs.back().hi + 1) {
            runs.back().hi = s;
        } else {
            runs.push_back(Run{s, s});
        }
    }
    return runs;
}

/// The cheapest cover of the runs by sections (dynamic programming over where sections start),
/// then adjacent lists merged into one.
std::vector<Section> choose_sections(const std::vector<Run>& runs) {
    const std::size_t n = runs.size();
    constexpr auto kNever = std::numeric_limits<std::uint64_t>::max();
    std::vector<std::uint64_t> best(n + 1, kNever);  // best[i]: cost of covering runs [0, i)
    std::vector<Section> choice(n + 1, Section{0, 0, 0});
    best[0] = 0;
    for (std::size_t end = 1; end <= n; ++end) {
        std::uint64_t listed = 0;  // serials in runs [first, end)
        for (std::size_t first = end; first-- > 0 && end - first <= kWindow;) {
            listed += runs[first].size();
            const auto consider = [&](std::uint8_t type, std::uint64_t cost) {
                if (best[first] != kNever && best[first] + cost < best[end]) {
                    best[end] = best[first] + cost;
                    choice[end] = Section{type, first, end - 1};
                }
            };
            if (listed <= kMaxBitmapBits) {
                consider(kKrlSerialList, kHeader + 8 * listed);
            }
            if (first == end - 1) {
                consider(kKrlSerialRange, kRangeCost);
            }
            const std::uint64_t span = runs[end - 1].hi - runs[first].lo;
            if (span < kMaxBitmapBits) {
                consider(kKrlSerialBitmap, bitmap_cost(span + 1));
            }
        }
    }
    std::vector<Section> reversed;
    for (std::size_t end = n; end > 0; end = choice[end].first) {
        reversed.push_back(choice[end]);
    }
    std::vector<Section> out;
    for (auto it = reversed.rbegin(); it != reversed.rend(); ++it) {
        if (!out.empty() && out.back().type == kKrlSerialList && it->type == kKrlSerialList) {
            out.back().last = it->last;
        } else {
            out.push_back(*it);
        }
    }
    return out;
}

}  // namespace

void write_serial_sections(const std::vector<std::uint64_t>& serials, wire::Writer& out) {
    const std::vector<Run> runs = runs_of(serials);
    for (const Section& section : choose_sections(runs)) {
        wire::Writer data;
        if (section.type == kKrlSerialRange) {
            data.put_u64(runs[section.first].lo);
            data.put_u64(runs[section.first].hi);
        } else if (section.type == kKrlSerialList) {
            for (std::size_t r = section.first; r <= section.last; ++r) {
                for (std::uint64_t s = runs[r].lo;; ++s) {
                    data.put_u64(s);
                    if (s == runs[r].hi) {
                        break;
                    }
                }
            }
        } else {
            // Bit k stands for serial offset + k; the mpint is big-endian, so bit 0 is the last byte's LSB.
            const std::uint64_t offset = runs[section.first].lo;
            const std::uint64_t bits = runs[section.last].hi - offset + 1;
            std::string magnitude((bits + 7) / 8, '\0');
            for (std::size_t r = section.first; r <= section.last; ++r) {
                for (std::uint64_t k = runs[r].lo - offset; k <= runs[r].hi - offset; ++k) {
                    magnitude[magnitude.size() - 1 - k / 8] |= static_cast<char>(1U << (k % 8));
                }
            }
            data.put_u64(offset);
            data.put_mpint(magnitude);
        }
        out.put_u8(section.type);
        out.put_string(data.bytes());
    }
}

}  // namespace moneta::sshcert::detail
