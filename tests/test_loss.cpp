// Losses are safe to share: evaluate / per_sample are const and keep no
// scratch in the object, so one loss object may serve several threads.
#include "support.hpp"

#include <atomic>
#include <thread>

#include <latent/latent.hpp>

using namespace latent;

namespace {

template <class L>
void check_shared_between_threads(const L& loss) {
    // Two threads, different batch sizes (so a shared buffer would be resized under the other's feet).
    Rng rng(4);
    std::vector<Matrix<float>> preds, targets;
    std::vector<float> expected;
    for (Index cols : {1, 257}) {
        Matrix<float> p(33, cols), t(33, cols);
        rng.fill_uniform(p, 0.05, 0.95);
        rng.fill_uniform(t, 0.05, 0.95);
        preds.push_back(p);
        targets.push_back(t);
        expected.push_back(loss.evaluate(p, t));
    }
    std::atomic<int> wrong{0};
    auto work = [&](std::size_t k) {
        Matrix<float> grad;
        for (int i = 0; i < 2000; ++i) {
            if (loss.evaluate(preds[k], targets[k], &grad) != expected[k]) ++wrong;
            if (loss.per_sample(preds[k], targets[k]).size() != preds[k].cols()) ++wrong;
        }
    };
    std::thread a(work, 0), b(work, 1);
    a.join();
    b.join();
    CHECK(wrong == 0);
}

}  // namespace

TEST_CASE("one loss object shared by two threads gives each its own result", "[losses][threads]") {
    check_shared_between_threads(MSELoss<float>());
    check_shared_between_threads(BCELoss<float>(Reduction::sum_features));
    check_shared_between_threads(HuberLoss<float>(0.3));
}

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
