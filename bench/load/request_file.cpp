#include "request_file.hpp"

#include <cstdio>
#include <fstream>

namespace moneta::bench {
namespace {

constexpr std::string_view kSeqToken = "@SEQ@";
constexpr std::string_view kNowToken = "@NOWMS@";

// Appends `text` to out.bytes, replacing placeholders by fixed-width zeros and recording them.
void append_with_placeholders(std::string_view text, RenderedRequest& out) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto at = text.find('@', i);
        if (at == std::string_view::npos) {
            out.bytes.append(text.substr(i));
            return;
        }
        out.bytes.append(text.substr(i, at - i));
        const auto rest = text.substr(at);
        if (rest.starts_with(kSeqToken)) {
            out.placeholders.push_back({out.bytes.size(), true});
            out.bytes.append(kSeqWidth, '0');
            i = at + kSeqToken.size();
        } else if (rest.starts_with(kNowToken)) {
            out.placeholders.push_back({out.bytes.size(), false});
            out.bytes.append(kNowMsWidth, '0');
            i = at + kNowToken.size();
        } else {
            out.bytes.push_back('@');
            i = at + 1;
        }
    }
}

void write_digits(char* dst, std::size_t width, std::uint64_t value) {
    for (std::size_t i = width; i-- > 0;) {
        dst[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

}  // namespace

bool render_request(std::string_view line, std::string_view host, RenderedRequest& out, std::string& error) {
    std::string_view fields[4];
    std::size_t n = 0;
    std::size_t start = 0;
    while (n < 3) {
        const auto tab = line.find('\t', start);
        if (tab == std::string_view::npos) break;
        fields[n++] = line.substr(start, tab - start);
        start = tab + 1;
    }
    fields[n++] = line.substr(start);
    if (n < 3) {
        error = "expected METHOD<TAB>PATH<TAB>TOKEN[<TAB>BODY]";
        return false;
    }
    const auto method = fields[0];
    const auto path = fields[1];
    const auto token = fields[2];
    const auto body = n == 4 ? fields[3] : std::string_view{};
    if (method.empty() || path.empty() || path.front() != '/') {
        error = "empty method or a path not starting with '/'";
        return false;
    }
    for (const auto field : {method, path, token}) {
        for (const char c : field) {
            if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
                error = "control character or space in method, path or token";
                return false;
            }
        }
    }
    out = {};
    out.bytes.reserve(256 + token.size() + body.size());
    out.bytes.append(method).append(" ");
    append_with_placeholders(path, out);
    out.bytes.append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
    if (!token.empty() && token != "-") {
        out.bytes.append("Authorization: Bearer ").append(token).append("\r\n");
    }
    if (!body.empty() || method == "POST" || method == "PUT") {
        // The body's length after placeholder expansion: each placeholder keeps a fixed width.
        RenderedRequest probe;
        append_with_placeholders(body, probe);
        if (!body.empty()) out.bytes.append("Content-Type: application/json\r\n");
        out.bytes.append("Content-Length: ").append(std::to_string(probe.bytes.size())).append("\r\n");
    }
    out.bytes.append("\r\n");
    append_with_placeholders(body, out);
    return true;
}

bool load_request_file(const std::string& path, std::string_view host, std::vector<RenderedRequest>& out,
                       std::string& error) {
    std::ifstream in(path);
    if (!in) {
        error = "cannot open " + path;
        return false;
    }
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        RenderedRequest req;
        if (!render_request(line, host, req, error)) {
            error = path + ":" + std::to_string(number) + ": " + error;
            return false;
        }
        out.push_back(std::move(req));
    }
    if (out.empty()) {
        error = path + ": no requests";
        return false;
    }
    return true;
}

void fill_placeholders(const RenderedRequest& req, char* dst, std::uint64_t seq, std::uint64_t now_ms) {
    for (const auto& p : req.placeholders) {
        if (p.is_seq) {
            write_digits(dst + p.offset, kSeqWidth, 100000000000ULL + seq);
        } else {
            write_digits(dst + p.offset, kNowMsWidth, now_ms);
        }
    }
}

}  // namespace moneta::bench
