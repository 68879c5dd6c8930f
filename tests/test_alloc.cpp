// latent-test: own-executable
// "A training step after the first allocates nothing": with
// EIGEN_RUNTIME_NO_MALLOC, Eigen checks every heap allocation it makes
// against set_is_malloc_allowed; an allocation inside steps 2..n of
// train_batch + optimizer.step fails the test (it throws, through
// eigen_assert, instead of aborting the run).
//
// Scope: allocations by Eigen objects (every Matrix and Vector in latent).
// Sizes stay small enough that Eigen's matrix products keep their blocking
// workspace on the stack (EIGEN_STACK_ALLOCATION_LIMIT) and run on one thread.
#include "no_malloc.hpp"  // first: it configures Eigen

#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;

namespace {

template <class S>
std::unique_ptr<Optimizer<S>> make_optimizer(int which) {
    SGDOptions nesterov;
    nesterov.momentum = 0.9;
    nesterov.nesterov = true;
    nesterov.weight_decay = 1e-4;
    RMSPropOptions rms;
    rms.lr = 1e-3;
    rms.momentum = 0.5;
    switch (which) {
        case 0: return std::make_unique<Adam<S>>(1e-3);
        case 1: return std::make_unique<AdamW<S>>(1e-3);
        case 2: return std::make_unique<SGD<S>>(nesterov);
        case 3: return std::make_unique<SGD<S>>(1e-2);
        case 4: return std::make_unique<RMSProp<S>>(rms);
        default: return std::make_unique<AdaGrad<S>>(1e-2);
    }
}

template <class T>
struct Same {  // keeps S deduced from the other arguments (nullptr masks)
    using type = T;
};

// Runs `steps` full-batch steps; the first may allocate, the rest may not.
// Returns an empty string, or the failed assertion of the step that allocated.
template <class S>
std::string steps_allocate(Autoencoder<S>& ae, Optimizer<S>& opt, const Matrix<S>& x, const Matrix<S>& y,
                           const typename Same<Matrix<S>>::type* mask, int steps, double clip = 0) {
    return latent_test::later_calls_allocate(steps, "step", [&](int) {
        ae.params().zero_grad();
        ae.train_batch(x, y, mask);
        if (clip > 0) clip_grad_norm(ae.params(), clip);
        opt.step(ae.params());
    });
}

template <class S>
Matrix<S> data(Index rows, Index cols, std::uint64_t seed) {
    Rng rng(seed);
    Matrix<S> x(rows, cols);
    rng.fill_uniform(x, 0.05, 0.95);
    return x;
}

}  // namespace

TEMPLATE_TEST_CASE("a training step after the first allocates nothing", "[train][alloc]", float, double) {
    using S = TestType;
    const Matrix<S> x = data<S>(64, 32, 1);
    for (int which = 0; which < 6; ++which) {
        DYNAMIC_SECTION("dense AE with dropout and activations, optimizer " << which) {
            Rng rng(2);
            DenseAutoencoderOptions o;
            o.sizes = {64, 32, 8};
            o.hidden = Act::elu;
            o.code = Act::tanh;
            o.dropout = 0.2;
            auto ae = make_dense_autoencoder<S>(o, rng);
            auto opt = make_optimizer<S>(which);
            const std::string where = steps_allocate(ae, *opt, x, x, nullptr, 4);
            INFO(where);
            CHECK(where.empty());
        }
    }
}

TEMPLATE_TEST_CASE("no allocation after the first step: other autoencoder kinds", "[train][alloc]", float, double) {
    using S = TestType;
    const Matrix<S> x = data<S>(48, 24, 3);
    Rng rng(4);
    DenseAutoencoderOptions o;
    o.sizes = {48, 24, 6};
    Adam<S> adam(1e-3);
    SECTION("denoising (noise layer), every activation, BCE") {
        o.input_noise = 0.1;
        for (Act a : {Act::relu, Act::leaky_relu, Act::sigmoid, Act::softplus, Act::gelu, Act::identity}) {
            o.hidden = a;
            auto ae = make_dense_autoencoder<S>(o, rng);
            ae.set_loss(std::make_unique<BCELoss<S>>());
            Adam<S> opt(1e-3);
            const std::string where = steps_allocate(ae, opt, x, x, nullptr, 3);
            INFO(act_name(a) << ": " << where);
            CHECK(where.empty());
        }
    }
    SECTION("sparse: L1 activity and KL sparsity, weight penalty, clipping") {
        o.code = Act::sigmoid;
        o.l1_activity = 1e-3;
        o.kl_rho = 0.05;
        o.kl_beta = 0.1;
        auto ae = make_dense_autoencoder<S>(o, rng);
        ae.set_weight_penalty({1e-5, 1e-4});
        const std::string where = steps_allocate(ae, adam, x, x, nullptr, 3, 1.0);
        INFO(where);
        CHECK(where.empty());
    }
    SECTION("contractive") {
        o.sizes = {48, 12};
        o.contractive = 0.1;
        auto ae = make_dense_autoencoder<S>(o, rng);
        const std::string where = steps_allocate(ae, adam, x, x, nullptr, 3);
        INFO(where);
        CHECK(where.empty());
    }
    SECTION("tied weights") {
        o.tied = true;
        auto ae = make_dense_autoencoder<S>(o, rng);
        const std::string where = steps_allocate(ae, adam, x, x, nullptr, 3);
        INFO(where);
        CHECK(where.empty());
    }
    SECTION("masked loss, input-to-target pairs, Huber and MAE") {
        Matrix<S> mask = Matrix<S>::Ones(48, 24);
        mask(3, 4) = 0;
        const Matrix<S> y = data<S>(48, 24, 5);
        auto ae = make_dense_autoencoder<S>(o, rng);
        ae.set_loss(std::make_unique<HuberLoss<S>>(0.5));
        std::string where = steps_allocate(ae, adam, x, y, &mask, 3);
        INFO(where);
        CHECK(where.empty());
        ae.set_loss(std::make_unique<MAELoss<S>>(Reduction::sum_features));
        where = steps_allocate(ae, adam, x, y, &mask, 3);
        CHECK(where.empty());
        ae.set_loss(std::make_unique<BCEWithLogitsLoss<S>>());
        where = steps_allocate(ae, adam, x, y, &mask, 3);
        CHECK(where.empty());
    }
}

TEST_CASE("the allocation check itself works", "[train][alloc]") {
    bool caught = false;
    try {
        latent_test::NoMalloc guard;
        Matrix<double> m(10, 10);  // allocates
        m.setZero();
    } catch (const EigenAssertion&) {
        caught = true;
    }
    CHECK(caught);
}
