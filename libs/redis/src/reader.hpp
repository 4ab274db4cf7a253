#pragma once

// hiredis's reply reader, with one bound added: the client and Reply::from_resp both create
// their readers here.

#include <hiredis/read.h>

namespace moneta::redis::detail {

/// The most elements a reply array may announce. hiredis 0.14 allocates the element table as
/// soon as it reads "*<n>\r\n", before any element arrives: 13 bytes claiming 268435455 elements
/// cost 2 GiB (found by fuzz/redis_reply_fuzz.cpp). Our largest replies (a flush batch, a
/// continue-watching list) stay far below this; 2^20 pointers are 8 MiB.
inline constexpr int kMaxReplyElements = 1 << 20;

/// redisReaderCreate(), except that an array longer than kMaxReplyElements puts the reader in
/// its error state (errstr "Out of memory", as for any allocation hiredis refuses), which the
/// client treats as a protocol error: the connection is failed and replaced.
/// @return nullptr only when hiredis cannot allocate the reader. Free with redisReaderFree.
redisReader* create_reader() noexcept;

}  // namespace moneta::redis::detail
