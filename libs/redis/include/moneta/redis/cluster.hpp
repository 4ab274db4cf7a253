/// @file moneta/redis/cluster.hpp
/// @brief Redis Cluster's key → slot mapping, its redirections and its topology replies: the
/// pure parts of cluster routing (ClusterClient does the I/O). docs/redis_client.md "Cluster".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/core/result.hpp"
#include "moneta/redis/reply.hpp"

namespace moneta::redis {

inline constexpr std::size_t kClusterSlots = 16384;

/// The slot of @p key as Redis Cluster computes it: CRC16 (XMODEM) of the key, or of the part
/// between the first `{` and the next `}` when that part is not empty (the hash tag), mod 16384.
std::uint16_t key_slot(std::string_view key) noexcept;

/// The key a command is routed by, or nullopt for a command without one (PING, SCAN, ...):
/// EVAL/EVALSHA/FCALL → the first of their numkeys keys (none when numkeys is 0);
/// XREAD/XREADGROUP → the first key after STREAMS; anything else → its first argument.
/// The command name is matched case-insensitively.
std::optional<std::string_view> command_key(std::span<const std::string_view> args) noexcept;

/// A node address as a topology reply or a redirection names it.
struct NodeAddress {
    std::string host;
    std::uint16_t port = 0;
    std::string key() const { return host + ":" + std::to_string(port); }
    friend bool operator==(const NodeAddress&, const NodeAddress&) = default;
};

/// `<host>:<port>`, the port after the LAST colon (an IPv6 host holds colons) in 1..65535 as
/// plain decimal; an empty host takes @p fallback_host. nullopt on anything else (config seeds,
/// redirections, topology replies all go through it).
std::optional<NodeAddress> parse_node_address(std::string_view text, std::string_view fallback_host = {});

/// `-MOVED <slot> <host>:<port>` (the slot lives there now: update the map) or `-ASK <slot>
/// <host>:<port>` (this one command, preceded by ASKING, goes there; the map stays).
struct Redirect {
    enum class Kind : std::uint8_t { kMoved, kAsk };
    Kind kind = Kind::kMoved;
    std::uint16_t slot = 0;
    NodeAddress node;
};

/// Parses the text of an error reply; nullopt when it is not a well-formed MOVED/ASK (a slot
/// ≥ 16384, a port of 0 or > 65535, an empty host, anything trailing). An empty host in the
/// reply (`MOVED 3999 :6380`, sent when the node does not know its own address) takes
/// @p fallback_host: the address the redirecting node was reached at.
std::optional<Redirect> parse_redirect(std::string_view error_text, std::string_view fallback_host = {});

/// One slot range of `CLUSTER SLOTS`: [first, last] served by master (replicas are not used:
/// reads go to masters, which keeps read-your-writes for the progress guard).
struct SlotRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
    NodeAddress master;
};

/// Decodes a `CLUSTER SLOTS` reply strictly (kProtocolError on anything else: ranges out of
/// order or out of bounds, a master entry without host and port). An empty host is the
/// address the answering node was reached at (@p fallback_host), as Redis documents.
core::Result<std::vector<SlotRange>> parse_cluster_slots(ReplyView reply, std::string_view fallback_host);

/// Calls @p on_command(bytes, args) for each command of an encoded RESP request stream (what a
/// Pipeline holds): its whole bytes and up to the first 12 arguments it starts with (enough
/// for command_key(); more are not decoded). @return false on bytes that are not
/// multibulk-of-bulk-strings commands (nothing after the bad command is reported).
template <class F>
bool for_each_command(std::string_view wire, F&& on_command);

namespace detail {
/// Decodes the command at the start of @p wire: its byte length and its first arguments
/// (at most @p out.size()); 0 on malformed input. @p argc receives how many were stored.
std::size_t decode_command(std::string_view wire, std::span<std::string_view> out, std::size_t& argc) noexcept;
}  // namespace detail

template <class F>
bool for_each_command(std::string_view wire, F&& on_command) {
    std::string_view args[12];
    while (!wire.empty()) {
        std::size_t argc = 0;
        const std::size_t n = detail::decode_command(wire, args, argc);
        if (n == 0) {
            return false;
        }
        on_command(wire.substr(0, n), std::span<const std::string_view>(args, argc));
        wire.remove_prefix(n);
    }
    return true;
}

}  // namespace moneta::redis
