// Which commands a connection refuses because they would break it: SUBSCRIBE turns it into a
// subscriber, SELECT switches its database, MULTI left open or WATCH changes what the next
// caller's EXEC does, a blocking command stalls everyone behind it. The pool's connections are
// shared by every caller; a Lease's is exclusive but goes back to the pool afterwards, so it
// refuses the first kinds and allows transactions and blocking commands.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace asyncredis::detail {

enum class ConnectionUse { shared, exclusive };

// Why the commands in `payload` (RESP arrays of bulk strings, as the encoder writes them) may
// not run on a connection used as `use`, naming the API to use instead; nothing when they
// may. Commands are matched without regard to case.
std::optional<std::string> refusal(std::string_view payload, ConnectionUse use);

}  // namespace asyncredis::detail
