// RepeatVector and TimeDistributed (layers/sequence_layers.hpp): gradient
// checks through the flat interface, and what each output step holds.
#include "support.hpp"

#include <latent/latent.hpp>

using latent::Index;
using latent::Mode;
using latent::Shape;
using Mat = latent::Matrix<double>;

namespace {

constexpr double kBound = latent_test::grad_bound;

}  // namespace

TEST_CASE("RepeatVector and TimeDistributed gradients", "[sequence][gradcheck]") {
    SECTION("RepeatVector") {
        latent::Rng rng(4);
        latent::RepeatVector<double> rep(5);
        latent::ParamBuffer<double> params;
        latent::testing::build_standalone(rep, Shape{3}, params, rng);
        CHECK(rep.output_shape() == latent::sequence_shape(5, 3));
        Mat x(3, 4);
        rng.fill_normal(x);
        const auto r = latent::testing::check_layer(rep, params, x, rng);
        INFO(r.str());
        CHECK(r.ok(kBound));
        const Mat y = rep.forward(x, Mode::infer);
        for (Index t = 0; t < 5; ++t) CHECK(y.middleRows(t * 3, 3) == x);
    }
    SECTION("TimeDistributed(Dense) over 110 input features") {
        latent::Rng rng(4);
        latent::TimeDistributed<double> td(std::make_unique<latent::Dense<double>>(3));
        latent::ParamBuffer<double> params;
        latent::testing::build_standalone(td, latent::sequence_shape(4, 110), params, rng);
        CHECK(td.output_shape() == latent::sequence_shape(4, 3));
        Mat x(440, 3);
        rng.fill_normal(x);
        const auto r = latent::testing::check_layer(td, params, x, rng);
        INFO(r.str());
        CHECK(r.ok(kBound));
        // Step t of the output is the Dense applied to step t alone.
        latent::Dense<double>& d = static_cast<latent::Dense<double>&>(td.layer());
        const Mat y = td.forward(x, Mode::infer);
        for (Index t = 0; t < 4; ++t) {
            const Mat expect = (d.weight() * x.middleRows(t * 110, 110)).colwise() + d.bias().col(0);
            CHECK((y.middleRows(t * 3, 3) - expect).norm() < 1e-12);
        }
    }
    SECTION("TimeDistributed(Sequential{Dense, tanh})") {
        latent::Rng rng(6);
        auto inner = std::make_unique<latent::Sequential<double>>();
        inner->add<latent::Dense<double>>(4).add<latent::Activation<double>>(latent::Act::tanh);
        latent::TimeDistributed<double> td(std::move(inner));
        latent::ParamBuffer<double> params;
        latent::testing::build_standalone(td, latent::sequence_shape(3, 2), params, rng);
        Mat x(6, 5);
        rng.fill_normal(x);
        const auto r = latent::testing::check_layer(td, params, x, rng);
        INFO(r.str());
        CHECK(r.ok(kBound));
        CHECK(params.slots()[0].name == "layer.0.weight");
    }
}
