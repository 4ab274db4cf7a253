#include "progress/batch_split.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>

namespace moneta::progress {
namespace {

namespace json = boost::json;

/// error.code when it is a plain identifier (it goes into a log line and a Redis stream).
std::string safe_code(const json::value* v) {
    if (v == nullptr || !v->is_string()) {
        return {};
    }
    const json::string& s = v->get_string();
    if (s.empty() || s.size() > 64) {
        return {};
    }
    for (const char c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
            return {};
        }
    }
    return std::string(s.data(), s.size());
}

}  // namespace

std::optional<Rejection> item_rejection(int status, std::string_view body) {
    if (status != 400 && status != 413 && status != 422) {
        return std::nullopt;
    }
    Rejection r;
    r.status = status;
    boost::system::error_code ec;
    const json::value doc = json::parse(body, ec);
    const json::object* root = !ec ? doc.if_object() : nullptr;
    const json::value* error = root != nullptr ? root->if_contains("error") : nullptr;
    if (error == nullptr || !error->is_object()) {
        return r;  // still a refusal: split without a name
    }
    r.code = safe_code(error->get_object().if_contains("code"));
    const json::value* details = error->get_object().if_contains("details");
    if (details != nullptr && details->is_object()) {
        const json::value* index = details->get_object().if_contains("index");
        if (index != nullptr && index->is_int64() && index->get_int64() >= 0) {
            r.index = static_cast<std::size_t>(index->get_int64());
        } else if (index != nullptr && index->is_uint64()) {
            r.index = static_cast<std::size_t>(index->get_uint64());
        }
    }
    return r;
}

BatchSplitter::BatchSplitter(std::vector<std::size_t> group_of, std::size_t max_per_call, std::size_t split_calls_max)
    : group_of_(std::move(group_of)),
      split_calls_max_(split_calls_max),
      states_(group_of_.size(), ItemState::kPending),
      why_(group_of_.size()) {
    // Dense account numbers (0, 1, 2, … in order): the median account of a range is then the
    // middle of its numbers, whatever ids or gaps the caller used.
    std::size_t dense = 0;
    std::size_t previous = group_of_.empty() ? 0 : group_of_[0];
    for (std::size_t& g : group_of_) {
        if (g != previous) {
            previous = g;
            ++dense;
        }
        g = dense;
    }
    const std::size_t per_call = std::max<std::size_t>(1, max_per_call);
    for (std::size_t from = 0; from < group_of_.size(); from += per_call) {
        to_send_.push_back(ToSend{Range{from, std::min(group_of_.size(), from + per_call)}, false, false});
    }
}

std::optional<Range> BatchSplitter::next() {
    while (to_send_.empty()) {
        if (refused_.empty()) {
            return std::nullopt;
        }
        const Refused r = std::move(refused_.back());
        refused_.pop_back();
        expand(r);
    }
    const ToSend& s = to_send_.front();
    if (s.split) {
        if (split_calls_ >= split_calls_max_) {
            exhausted_ = true;
            return std::nullopt;
        }
        ++split_calls_;
    }
    const Range r = s.range;
    if (s.named) {
        named_.push_back(r);
    }
    to_send_.pop_front();
    return r;
}

void BatchSplitter::accepted(Range r) {
    for (std::size_t i = r.begin; i < r.end; ++i) {
        states_[i] = ItemState::kAccepted;
    }
    if (const auto it = std::find(named_.begin(), named_.end(), r); it != named_.end()) {
        named_.erase(it);
        trust_names_ = false;  // the API named an item it then accepted alone
    }
}

void BatchSplitter::rejected(Range r, Rejection why) {
    std::erase(named_, r);
    if (r.size() == 1) {
        states_[r.begin] = ItemState::kQuarantined;
        why_[r.begin] = std::move(why);
        return;
    }
    if (r.size() > 1) {
        refused_.push_back(Refused{r, std::move(why)});
    }
}

const Rejection& BatchSplitter::rejection(std::size_t item) const {
    static const Rejection kNone;
    return why_[item] ? *why_[item] : kNone;
}

std::size_t BatchSplitter::cut(Range r) const {
    const std::size_t first = group_of_[r.begin];
    const std::size_t last = group_of_[r.end - 1];
    if (first != last) {
        // The median account: the first item of account number first + ⌈(last - first) / 2⌉.
        const std::size_t median = first + (last - first + 1) / 2;
        const auto begin = group_of_.begin() + static_cast<std::ptrdiff_t>(r.begin);
        const auto end = group_of_.begin() + static_cast<std::ptrdiff_t>(r.end);
        return static_cast<std::size_t>(std::lower_bound(begin, end, median) - group_of_.begin());
    }
    return r.begin + r.size() / 2;
}

void BatchSplitter::expand(const Refused& refused) {
    const Range r = refused.range;
    if (trust_names_ && refused.why.index && *refused.why.index < r.size()) {
        // The named item alone first, then what lies before and after it.
        const std::size_t named = r.begin + *refused.why.index;
        to_send_.push_back(ToSend{Range{named, named + 1}, true, true});
        if (named > r.begin) {
            to_send_.push_back(ToSend{Range{r.begin, named}, true, false});
        }
        if (named + 1 < r.end) {
            to_send_.push_back(ToSend{Range{named + 1, r.end}, true, false});
        }
        return;
    }
    const std::size_t at = cut(r);
    to_send_.push_back(ToSend{Range{r.begin, at}, true, false});
    to_send_.push_back(ToSend{Range{at, r.end}, true, false});
}

}  // namespace moneta::progress
