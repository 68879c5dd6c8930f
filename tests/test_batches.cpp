// Batches (data/batches.hpp): BatchIterator covers every column once per
// epoch, BatchSampler options and errors, train_validation_split.
#include "support.hpp"

#include <set>
#include <vector>

#include <latent/latent.hpp>

using latent::Index;

TEST_CASE("BatchIterator visits every column exactly once per epoch", "[data][batches]") {
    const Index n = 103;
    latent::Matrix<float> x(2, n), y(1, n);
    std::vector<int> labels(static_cast<std::size_t>(n));
    for (Index j = 0; j < n; ++j) {
        x(0, j) = static_cast<float>(j);
        x(1, j) = static_cast<float>(-j);
        y(0, j) = static_cast<float>(10 * j);
        labels[static_cast<std::size_t>(j)] = static_cast<int>(j % 7);
    }
    latent::Rng rng(3);
    latent::BatchIterator<float> it(x, 16, rng, true, false, &y, &labels);
    CHECK(it.batches_per_epoch() == 7);
    std::vector<std::vector<Index>> orders;
    for (int epoch = 1; epoch <= 3; ++epoch) {
        std::vector<int> seen(static_cast<std::size_t>(n), 0);
        std::vector<Index> order;
        Index batches = 0;
        while (it.next()) {
            ++batches;
            CHECK(it.epoch() == epoch);
            CHECK(it.x().cols() == (batches < 7 ? 16 : n - 6 * 16));
            for (Index j = 0; j < it.x().cols(); ++j) {
                const Index src = static_cast<Index>(it.x()(0, j));
                CHECK(it.indices()[static_cast<std::size_t>(j)] == src);
                CHECK(it.x()(1, j) == -static_cast<float>(src));
                CHECK(it.y()(0, j) == 10.0f * static_cast<float>(src));
                CHECK(it.labels()[static_cast<std::size_t>(j)] == src % 7);
                ++seen[static_cast<std::size_t>(src)];
                order.push_back(src);
            }
        }
        CHECK(batches == 7);
        for (int c : seen) CHECK(c == 1);
        orders.push_back(order);
    }
    CHECK(orders[0] != orders[1]);  // reshuffled each epoch

    // same seed, same order
    latent::Rng rng2(3);
    latent::BatchIterator<float> again(x, 16, rng2, true, false, &y, &labels);
    std::vector<Index> first;
    while (again.next()) first.insert(first.end(), again.indices().begin(), again.indices().end());
    CHECK(first == orders[0]);
}

TEST_CASE("BatchSampler: drop_last, no shuffle, errors", "[data][batches]") {
    latent::Rng rng(1);
    latent::BatchSampler keep(10, 4, false, false), drop(10, 4, true, true);
    CHECK(keep.size() == 3);
    CHECK(keep.batch_length(2) == 2);
    keep.start_epoch(rng);
    CHECK(keep.batch_indices(1)[0] == 4);  // unshuffled
    CHECK(drop.size() == 2);
    drop.start_epoch(rng);
    std::set<Index> seen;
    for (Index b = 0; b < drop.size(); ++b)
        for (Index j = 0; j < drop.batch_length(b); ++j) CHECK(seen.insert(drop.batch_indices(b)[j]).second);
    CHECK(seen.size() == 8);
    CHECK_THROWS_AS(latent::BatchSampler(0, 4), latent::DataError);
    CHECK_THROWS_AS(latent::BatchSampler(10, 0), latent::ConfigError);
    CHECK_THROWS_AS(latent::BatchSampler(3, 4, true, true), latent::ConfigError);
    latent::Matrix<float> x(2, 5), y(1, 4);
    CHECK_THROWS_AS(latent::BatchIterator<float>(x, 2, rng, true, false, &y), latent::ShapeError);
}

TEST_CASE("train_validation_split partitions the columns", "[data][batches]") {
    latent::Matrix<double> x(1, 50);
    std::vector<int> labels(50);
    for (Index j = 0; j < 50; ++j) x(0, j) = static_cast<double>(j), labels[static_cast<std::size_t>(j)] = static_cast<int>(j);
    latent::Rng rng(11);
    const auto s = latent::train_validation_split(x, 0.2, rng, labels);
    CHECK(s.train_x.cols() == 40);
    CHECK(s.val_x.cols() == 10);
    std::set<Index> all;
    for (Index j = 0; j < 40; ++j) {
        all.insert(static_cast<Index>(s.train_x(0, j)));
        CHECK(s.train_labels[static_cast<std::size_t>(j)] == static_cast<int>(s.train_x(0, j)));
    }
    for (Index j = 0; j < 10; ++j) {
        all.insert(static_cast<Index>(s.val_x(0, j)));
        CHECK(s.val_labels[static_cast<std::size_t>(j)] == static_cast<int>(s.val_x(0, j)));
    }
    CHECK(all.size() == 50);
    const auto last = latent::split_indices(10, 0.3);
    CHECK(last.val == std::vector<Index>{7, 8, 9});
    CHECK_THROWS_AS(latent::split_indices(10, 1.0), latent::ConfigError);
}
