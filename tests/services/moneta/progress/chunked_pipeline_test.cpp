#include "progress/chunked_pipeline.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace moneta::progress {
namespace {

std::vector<std::size_t> sizes(ChunkedPipeline& p) {
    std::vector<std::size_t> out;
    for (const redis::Pipeline& part : p.parts()) {
        out.push_back(part.size());
    }
    return out;
}

TEST(ChunkedPipelineTest, SplitsIntoTripsOfAtMostPerTripKeepingTheOrder) {
    ChunkedPipeline p(32);
    EXPECT_TRUE(p.empty());
    for (int i = 0; i < 100; ++i) {
        p.next().add({"HGET", "k", std::to_string(i)});
    }
    EXPECT_EQ(sizes(p), (std::vector<std::size_t>{32, 32, 32, 4}));
    // In order: the first trip starts with field 0, the last one ends with field 99.
    EXPECT_NE(p.parts().front().wire().find("$1\r\n0\r\n"), std::string_view::npos);
    EXPECT_NE(p.parts().back().wire().find("$2\r\n99\r\n"), std::string_view::npos);
    EXPECT_EQ(p.parts().back().wire().find("$2\r\n95\r\n"), std::string_view::npos);
}

TEST(ChunkedPipelineTest, ANonsensicalZeroMeansOneCommandPerTrip) {
    ChunkedPipeline p(0);
    p.next().add({"PING"});
    p.next().add({"PING"});
    EXPECT_EQ(sizes(p), (std::vector<std::size_t>{1, 1}));
}

TEST(ChunkedPipelineTest, ClearEmptiesItAndTheNextBatchStartsAfresh) {
    ChunkedPipeline p(2);
    for (int i = 0; i < 5; ++i) {
        p.next().add({"HGET", "k", std::to_string(i)});
    }
    ASSERT_EQ(sizes(p), (std::vector<std::size_t>{2, 2, 1}));
    const void* first_part = &p.parts().front();
    p.clear();
    EXPECT_TRUE(p.empty());
    EXPECT_TRUE(p.parts().empty());
    // Fewer commands than before: only the trips they need, nothing left over from the last batch.
    p.next().add({"HGET", "k", "a"});
    p.next().add({"HGET", "k", "b"});
    p.next().add({"HGET", "k", "c"});
    EXPECT_EQ(sizes(p), (std::vector<std::size_t>{2, 1}));
    EXPECT_EQ(p.parts().front().wire().find("$1\r\n0\r\n"), std::string_view::npos);
    EXPECT_NE(p.parts().front().wire().find("$1\r\na\r\n"), std::string_view::npos);
    EXPECT_NE(p.parts().back().wire().find("$1\r\nc\r\n"), std::string_view::npos);
    EXPECT_EQ(&p.parts().front(), first_part);  // the same pipelines, reused
    // More than before: new trips are added after the kept ones.
    p.clear();
    for (int i = 0; i < 8; ++i) {
        p.next().add({"PING"});
    }
    EXPECT_EQ(sizes(p), (std::vector<std::size_t>{2, 2, 2, 2}));
}

}  // namespace
}  // namespace moneta::progress
