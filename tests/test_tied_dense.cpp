// TiedDense (layers/tied_dense.hpp): gradient checks inside an autoencoder,
// the tied weight's gradient as the sum of both uses, the builder's tied
// decoder, and the errors of a bad tie or a backward before forward.
#include "support.hpp"

#include <latent/latent.hpp>

using namespace latent;
using latent::testing::check_layer;
using latent_test::MatD;

namespace {

// encoder [Dense(code)], decoder [TiedDense(0), act]
Autoencoder<double> tied_ae(Index code, Act out_act) {
    auto enc = std::make_unique<Sequential<double>>();
    enc->add<Dense<double>>(code).add<Activation<double>>(Act::tanh);
    auto dec = std::make_unique<Sequential<double>>();
    dec->add<TiedDense<double>>(0).add<Activation<double>>(out_act);
    return Autoencoder<double>(std::move(enc), std::move(dec));
}

}  // namespace

TEST_CASE("TiedDense inside an autoencoder: gradient check of the whole model", "[layers][gradcheck]") {
    Rng rng(50);
    auto ae = tied_ae(3, Act::sigmoid);
    ae.build(Shape{6}, rng);
    CHECK(ae.output_shape() == Shape{6});
    rng.fill_uniform(ae.params().values(), -1, 1);
    // parameters: encoder weight and bias, decoder bias only
    const auto views = ae.parameters();
    REQUIRE(views.size() == 3);
    CHECK(views[0].name == "encoder.0.weight");
    CHECK(views[1].name == "encoder.0.bias");
    CHECK(views[2].name == "decoder.0.bias");
    CHECK(views[2].value.rows() == 6);

    const MatD x = MatD::Random(6, 4);
    LATENT_CHECK_GRADIENT(check_layer(ae.network().root(), ae.params(), x, rng));
}

TEST_CASE("TiedDense: the encoder weight's gradient is the sum of both uses", "[layers]") {
    Rng rng(51);
    auto tied = tied_ae(3, Act::identity);
    tied.build(Shape{5}, rng);
    rng.fill_uniform(tied.params().values(), -1, 1);

    // The same function untied: decoder Dense with W_dec = W_enc^T.
    auto enc = std::make_unique<Sequential<double>>();
    enc->add<Dense<double>>(3).add<Activation<double>>(Act::tanh);
    auto dec = std::make_unique<Sequential<double>>();
    dec->add<Dense<double>>(5);
    Autoencoder<double> free(std::move(enc), std::move(dec));
    free.build(Shape{5}, rng);
    auto tv = tied.parameters();
    auto fv = free.parameters();  // encoder.0.weight, encoder.0.bias, decoder.0.weight, decoder.0.bias
    REQUIRE(fv.size() == 4);
    fv[0].value = tv[0].value;
    fv[1].value = tv[1].value;
    fv[2].value = tv[0].value.transpose();
    fv[3].value = tv[2].value;

    const MatD x = MatD::Random(5, 7);
    tied.params().zero_grad();
    free.params().zero_grad();
    const double lt = tied.train_batch(x, x, nullptr);
    const double lf = free.train_batch(x, x, nullptr);
    CHECK(lt == Approx(lf).epsilon(1e-14));
    const MatD expect = fv[0].grad + fv[2].grad.transpose();
    CHECK(tv[0].grad.isApprox(expect, 1e-13));
    CHECK_FALSE(tv[0].grad.isApprox(fv[0].grad, 1e-3));  // the decoder's use is really in there
    CHECK(tv[2].grad.isApprox(fv[3].grad, 1e-13));
}

TEST_CASE("tied dense autoencoder from the builder", "[layers][models]") {
    Rng rng(52);
    DenseAutoencoderOptions o;
    o.sizes = {12, 8, 4};
    o.tied = true;
    o.input_noise = 0.1;  // shifts the Dense positions in the encoder
    auto ae = make_dense_autoencoder<double>(o, rng);
    CHECK(ae.output_shape() == Shape{12});
    CHECK(ae.code_shape() == Shape{4});
    // only biases in the decoder
    Index dec_params = 0;
    for (const auto& v : ae.parameters())
        if (v.name.rfind("decoder.", 0) == 0) {
            CHECK(v.value.cols() == 1);
            dec_params += v.value.size();
        }
    CHECK(dec_params == 8 + 12);
    const MatD x = MatD::Random(12, 3).cwiseAbs();
    CHECK(ae.reconstruct(x).allFinite());
}

TEST_CASE("a tie to something other than a Dense is a ConfigError", "[layers]") {
    Rng rng(53);
    auto enc = std::make_unique<Sequential<double>>();
    enc->add<Dense<double>>(3).add<Activation<double>>(Act::tanh);
    auto dec = std::make_unique<Sequential<double>>();
    dec->add<TiedDense<double>>(1);
    Autoencoder<double> ae(std::move(enc), std::move(dec));
    LATENT_CHECK_THROWS_WITH_ALL(ae.build(Shape{5}, rng), ConfigError, "tied to encoder layer 1", "Activation");
}

TEST_CASE("TiedDense: backward before forward throws latent::Error", "[layers]") {
    auto enc = std::make_unique<Sequential<double>>();
    enc->add<Dense<double>>(3);
    auto dec = std::make_unique<Sequential<double>>();
    dec->add(std::make_unique<TiedDense<double>>(0));
    Autoencoder<double> ae(std::move(enc), std::move(dec));
    Rng rng(2);
    ae.build(Shape{5}, rng);
    LATENT_CHECK_THROWS_WITH_ALL(ae.decoder().backward(MatD::Ones(5, 2)), Error, "backward", "forward");
    LATENT_CHECK_THROWS_WITH_ALL(ae.network().backward(MatD::Ones(5, 2)), Error, "backward", "forward");
}
