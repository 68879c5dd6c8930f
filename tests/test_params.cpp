// ParamBuffer (core/params.hpp): slots bound back to back in one flat buffer,
// views, decay mask, moves; a model's parameters in that buffer with PyTorch-style names.
#include "support.hpp"

#include <string>
#include <vector>

#include <latent/latent.hpp>

using namespace latent;
using latent_test::MatD;
using latent_test::VecD;

TEST_CASE("ParamBuffer: one flat buffer, slots back to back", "[core]") {
    ParamSlot<double> a{"a", 2, 3, Init::constant(1), true};
    ParamSlot<double> b{"b", 4, 1, Init::constant(2), false};
    ParamSlot<double> c{"c", 1, 2, Init::constant(3), true, false};
    ParamBuffer<double> p;
    p.bind({{"x.a", &a}, {"x.b", &b}, {"c", &c}});
    REQUIRE(p.size() == 12);
    CHECK(a.value == p.values().data());
    CHECK(b.value == p.values().data() + 6);
    CHECK(c.grad == p.grads().data() + 10);
    Rng rng(1);
    p.initialize(rng);
    VecD expect(12);
    expect << 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3;
    CHECK(p.values() == expect);
    VecD mask(12);
    mask << 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1;
    CHECK(p.decay_mask() == mask);
    a.g().setOnes();
    CHECK(p.grads().head(6).isOnes(0));
    p.zero_grad();
    CHECK(p.grads().isZero(0));
    auto views = p.views();
    REQUIRE(views.size() == 3);
    CHECK(views[0].name == "x.a");
    CHECK(views[0].value.rows() == 2);
    CHECK(views[0].value.cols() == 3);
    CHECK_FALSE(views[1].decay);
    // writing through a view writes the buffer
    views[1].value(3, 0) = 9;
    CHECK(p.values()(9) == 9);
    // moving the buffer keeps the slots valid (the storage moves with it)
    ParamBuffer<double> moved = std::move(p);
    CHECK(a.value == moved.values().data());
}

TEST_CASE("a model's parameters are one flat buffer with PyTorch-style names", "[core][models]") {
    Rng rng(2);
    DenseAutoencoderOptions o;
    o.sizes = {6, 4, 2};
    auto ae = make_dense_autoencoder<double>(o, rng);
    const auto views = ae.parameters();
    std::vector<std::string> names;
    Index total = 0;
    const double* expect = ae.params().values().data();
    for (const auto& v : views) {
        names.push_back(v.name);
        CHECK(v.value.data() == expect);  // contiguous, in order
        expect += v.value.size();
        total += v.value.size();
    }
    CHECK(total == ae.params().size());
    const std::vector<std::string> want = {"encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias",
                                           "decoder.0.weight", "decoder.0.bias", "decoder.2.weight", "decoder.2.bias"};
    CHECK(names == want);
    // the model survives a move (the layers keep pointing into the moved buffer)
    Autoencoder<double> moved = std::move(ae);
    const MatD x = MatD::Random(6, 3);
    moved.params().values().setZero();
    CHECK(moved.reconstruct(x).isApprox(MatD::Constant(6, 3, 0.5)));  // sigmoid(0)
}
