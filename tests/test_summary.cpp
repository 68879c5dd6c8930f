// latent::summary (models/summary.hpp): one line a layer with its type,
// output shape and parameter count, and the totals, for every model kind.
#include "catch.hpp"

#include <latent/latent.hpp>

#include "support.hpp"

using latent_test::contains;

TEST_CASE("summary of a dense autoencoder: a line a layer, shapes, parameter counts, totals", "[summary]") {
    latent::Rng rng(1);
    latent::DenseAutoencoderOptions o;
    o.sizes = {784, 128, 32};
    const auto ae = latent::make_dense_autoencoder<float>(o, rng);
    const std::string s = latent::summary(ae);
    INFO(s);
    CHECK(contains(s, "encoder.0 (Dense)"));
    CHECK(contains(s, "100,480"));  // 784 * 128 + 128
    CHECK(contains(s, "encoder.1 (Activation)"));
    CHECK(contains(s, "decoder.2 (Dense)"));
    CHECK(contains(s, "(784)"));
    const long total = 784 * 128 + 128 + 128 * 32 + 32 + 32 * 128 + 128 + 128 * 784 + 784;
    CHECK(total == ae.network().params().size());
    CHECK(contains(s, "Total parameters: 209,968"));
    CHECK(contains(s, "Input shape: (784)"));
    CHECK(contains(s, "float32"));
}

TEST_CASE("summary of the other model kinds", "[summary]") {
    latent::Rng rng(2);
    auto vae = latent::make_dense_vae<double>({10, 6, 2}, rng);
    const std::string v = latent::summary(vae);
    INFO(v);
    CHECK(contains(v, "sampler (GaussianSampler)"));
    CHECK(contains(v, "float64"));

    latent::Seq2SeqOptions so;
    so.source_steps = 3;
    so.source_features = 4;
    so.target_steps = 2;
    so.target_vocab = 5;
    so.units = 6;
    const latent::Seq2Seq<float> s2s(so, rng);
    const std::string s = latent::summary(s2s);
    INFO(s);
    CHECK(contains(s, "encoder (LSTM)"));
    CHECK(contains(s, "output (TimeDistributed)"));
    CHECK(contains(s, "Total parameters: " + latent::detail::with_commas(s2s.network().params().size())));
    CHECK(latent::detail::with_commas(1234567) == "1,234,567");
    CHECK(latent::detail::with_commas(12) == "12");
}
