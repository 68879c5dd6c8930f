// core/chunks.hpp: for_chunks covers [begin, end) once, throws on bad batch
// sizes naming the value, and does nothing for an empty range.
#include "support.hpp"

#include <utility>
#include <vector>

#include <latent/latent.hpp>

using latent::Index;
using latent_test::check_bad_batch_sizes;

TEST_CASE("for_chunks: ranges cover [begin, end) once; bad batch sizes throw; nothing for an empty range", "[network]") {
    std::vector<std::pair<Index, Index>> seen;
    latent::for_chunks(3, 10, 3, "t", [&](Index s, Index n) { seen.emplace_back(s, n); });
    CHECK(seen == std::vector<std::pair<Index, Index>>{{3, 3}, {6, 3}, {9, 1}});
    seen.clear();
    latent::for_chunks(0, 0, 5, "t", [&](Index s, Index n) { seen.emplace_back(s, n); });
    CHECK(seen.empty());
    check_bad_batch_sizes([](Index b) { latent::for_chunks(0, 4, b, "t", [](Index, Index) {}); });
}
