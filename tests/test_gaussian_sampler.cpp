// GaussianSampler (layers/gaussian_sampler.hpp): the reparameterization
// z = mu + exp(logvar/2) eps, its gradients with a fixed draw, infer and
// train modes, spatial latents.
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::check_gradient;
using latent_test::MatD;
using latent_test::VecD;

TEST_CASE("GaussianSampler: z = mu + exp(logvar/2) eps, gradients with a fixed draw", "[vae][sampler][gradcheck]") {
    GaussianSampler<double> s;
    ParamBuffer<double> params;
    Rng rng(4);
    testing::build_standalone(s, Shape{2 * 12}, params, rng);  // latent 12, batch 10: 120 latent entries
    CHECK(s.output_shape() == Shape{12});
    MatD h(24, 10), eps(12, 10), r(12, 10);
    rng.fill_normal(h);
    rng.fill_normal(eps);
    rng.fill_normal(r);
    const MatD z = s.sample(h, eps);
    CHECK(z.isApprox(MatD(h.topRows(12).array() + (0.5 * h.bottomRows(12).array()).exp() * eps.array()), 1e-15));
    const MatD dh = s.backward(r);
    auto f = [&](const VecD& v) { return (r.array() * s.sample(MatD(Eigen::Map<const MatD>(v.data(), 24, 10)), eps).array()).sum(); };
    LATENT_CHECK_GRADIENT(check_gradient(f, Eigen::Map<const VecD>(h.data(), h.size()), Eigen::Map<const VecD>(dh.data(), dh.size())));
    // infer mode: the posterior mean
    CHECK(s.forward(h, Mode::infer).isApprox(MatD(h.topRows(12))));
    // train mode draws eps from the attached generator
    const MatD z1 = s.forward(h, Mode::train);
    CHECK(!z1.isApprox(MatD(h.topRows(12))));
    // spatial latents: channels split in half
    CHECK(s.output_shape(Shape{4, 3, 3}) == Shape(2, 3, 3));
    CHECK_THROWS_AS(s.output_shape(Shape{5}), ShapeError);
}
