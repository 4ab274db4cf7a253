#include "moneta/redis/pipeline.hpp"

#include "resp.hpp"

namespace moneta::redis {

Pipeline& Pipeline::add(const CommandArgs& args) {
    if (!args.empty()) {  // an empty command would desynchronise the reply FIFO
        detail::append_command(wire_, args.span());
        ++count_;
    }
    return *this;
}

}  // namespace moneta::redis
