// Sequence losses (losses/sequence_losses.hpp): one sequence loss object shared
// by two threads gives each its own result (evaluate is const, no scratch kept).
#include "support.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <latent/latent.hpp>

using namespace latent;

TEST_CASE("one sequence loss object shared by two threads gives each its own result", "[losses][threads]") {
    SequenceCrossEntropyLoss<float> loss;
    Rng rng(5);
    std::vector<Sequence<float>> preds(2), targets(2);
    std::vector<float> expected;
    for (std::size_t k = 0; k < 2; ++k) {
        const Index n = k == 0 ? 1 : 129;
        for (int t = 0; t < 4; ++t) {
            Matrix<float> p(7, n), y = Matrix<float>::Zero(7, n);
            rng.fill_uniform(p, -2, 2);
            for (Index j = 0; j < n; ++j) y((j + t) % 7, j) = 1;
            preds[k].push_back(p);
            targets[k].push_back(y);
        }
        expected.push_back(loss.evaluate(preds[k], targets[k]));
    }
    std::atomic<int> wrong{0};
    auto work = [&](std::size_t k) {
        Sequence<float> grad;
        for (int i = 0; i < 500; ++i)
            if (loss.evaluate(preds[k], targets[k], &grad) != expected[k]) ++wrong;
    };
    std::thread a(work, 0), b(work, 1);
    a.join();
    b.join();
    CHECK(wrong == 0);
}
