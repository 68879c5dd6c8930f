// Network, the one model lifecycle (models/network.hpp; for_chunks itself is in test_chunks.cpp):
// every model kind's chunked inference validates its batch size (0 and -3
// throw ConfigError naming the value; before, 0 never returned and -3
// aborted in an Eigen assertion), returns an empty result for empty input,
// gives the same result for any batch size, and rejects wrong rows with a
// ShapeError.
#include "catch.hpp"

#include <string>

#include <latent/latent.hpp>

#include "support.hpp"

using latent::Index;
using Mat = latent::Matrix<float>;
using latent_test::check_bad_batch_sizes;

namespace {

Mat data(Index rows, Index cols, std::uint64_t seed) {
    latent::Rng rng(seed);
    Mat x(rows, cols);
    rng.fill_uniform(x, 0.05, 0.95);
    return x;
}

latent::Autoencoder<float> small_ae() {
    latent::Rng rng(1);
    latent::DenseAutoencoderOptions o;
    o.sizes = {12, 6, 3};
    return latent::make_dense_autoencoder<float>(o, rng);
}

}  // namespace

TEST_CASE("Network::predict and the Autoencoder: batch sizes, empty input, wrong rows", "[network]") {
    auto ae = small_ae();
    const Mat x = data(12, 7, 2);
    const Mat full = ae.reconstruct(x, 7);
    CHECK(ae.reconstruct(x, 2).isApprox(full));
    CHECK(ae.network().predict(x, 3).isApprox(full));
    CHECK(ae.decode(ae.encode(x, 4), 5).isApprox(full));

    check_bad_batch_sizes([&](Index b) { ae.reconstruct(x, b); });
    check_bad_batch_sizes([&](Index b) { ae.encode(x, b); });
    check_bad_batch_sizes([&](Index b) { ae.decode(Mat::Zero(3, 2), b); });
    check_bad_batch_sizes([&](Index b) { ae.network().predict(x, b); });
    check_bad_batch_sizes([&](Index b) { ae.reconstruction_error(x, b); });

    const Mat empty(12, 0);
    CHECK(ae.reconstruct(empty).cols() == 0);
    CHECK(ae.reconstruct(empty).rows() == 12);
    CHECK(ae.encode(empty).rows() == 3);
    CHECK(ae.encode(empty).cols() == 0);
    CHECK(ae.decode(Mat(3, 0)).cols() == 0);
    CHECK(ae.network().predict(empty).cols() == 0);

    CHECK_THROWS_AS(ae.reconstruct(Mat::Zero(11, 2)), latent::ShapeError);
    CHECK_THROWS_AS(ae.encode(Mat::Zero(13, 2)), latent::ShapeError);
    CHECK_THROWS_AS(ae.decode(Mat::Zero(12, 2)), latent::ShapeError);
    CHECK_THROWS_AS(ae.network().predict(Mat::Zero(3, 2)), latent::ShapeError);

    Mat out(12, 7);
    ae.reconstruct_into(x, out, 3);
    CHECK(out.isApprox(full));
    Mat wrong(12, 6);
    CHECK_THROWS_AS(ae.reconstruct_into(x, wrong), latent::ShapeError);
}

TEST_CASE("VariationalAutoencoder inference: batch sizes, empty input, wrong rows", "[network]") {
    latent::Rng rng(3);
    auto vae = latent::make_dense_vae<float>({10, 6, 2}, rng);  // built, as every make_*
    REQUIRE(vae.built());
    const Mat x = data(10, 5, 4);
    CHECK(vae.reconstruct(x, 2).isApprox(vae.reconstruct(x, 5)));
    check_bad_batch_sizes([&](Index b) { vae.encode(x, b); });
    check_bad_batch_sizes([&](Index b) { vae.decode(Mat::Zero(2, 3), b); });
    check_bad_batch_sizes([&](Index b) { vae.reconstruct(x, b); });
    latent::Rng r2(5);
    check_bad_batch_sizes([&](Index b) { vae.evaluate(x, r2, b); });
    check_bad_batch_sizes([&](Index b) { vae.iwae(x, 2, r2, b); });
    CHECK(vae.encode(Mat(10, 0)).mu.cols() == 0);
    CHECK(vae.decode(Mat(2, 0)).cols() == 0);
    CHECK(vae.reconstruct(Mat(10, 0)).cols() == 0);
    CHECK_THROWS_AS(vae.encode(Mat::Zero(9, 1)), latent::ShapeError);
    CHECK_THROWS_AS(vae.decode(Mat::Zero(3, 1)), latent::ShapeError);
}

TEST_CASE("SequenceAutoencoder inference: batch sizes, empty input, wrong rows", "[network]") {
    latent::SequenceAutoencoderOptions o;
    o.steps = 4;
    o.features = 2;
    o.encoder_units = {5};
    latent::Rng rng(6);
    latent::SequenceAutoencoder<float> sae(o, rng);
    const Mat x = data(8, 5, 7);
    CHECK(sae.reconstruct(x, nullptr, 2).isApprox(sae.reconstruct(x, nullptr, 5)));
    CHECK(sae.encode(x, nullptr, 3).isApprox(sae.encode(x, nullptr, 5)));
    check_bad_batch_sizes([&](Index b) { sae.encode(x, nullptr, b); });
    check_bad_batch_sizes([&](Index b) { sae.reconstruct(x, nullptr, b); });
    check_bad_batch_sizes([&](Index b) { sae.step_errors(x, nullptr, b); });
    check_bad_batch_sizes([&](Index b) { sae.reconstruction_error(x, nullptr, b); });
    CHECK(sae.encode(Mat(8, 0)).cols() == 0);
    CHECK(sae.reconstruct(Mat(8, 0)).cols() == 0);
    CHECK(sae.step_errors(Mat(8, 0)).cols() == 0);
    CHECK_THROWS_AS(sae.reconstruct(Mat::Zero(7, 2)), latent::ShapeError);
    CHECK_THROWS_AS(sae.encode(Mat::Zero(9, 2)), latent::ShapeError);
}

TEST_CASE("Seq2Seq greedy decoding: batch sizes, empty input, wrong rows", "[network]") {
    latent::Seq2SeqOptions o;
    o.source_steps = 3;
    o.source_features = 4;
    o.target_steps = 2;
    o.target_vocab = 5;
    o.units = 6;
    latent::Rng rng(8);
    latent::Seq2Seq<float> s2s(o, rng);
    const Mat x = data(12, 5, 9);
    CHECK(s2s.greedy_decode(x, nullptr, 2) == s2s.greedy_decode(x, nullptr, 5));
    check_bad_batch_sizes([&](Index b) { s2s.greedy_decode(x, nullptr, b); });
    CHECK(s2s.greedy_decode(Mat(12, 0)).cols() == 0);
    CHECK_THROWS_AS(s2s.greedy_decode(Mat::Zero(11, 2)), latent::ShapeError);
    // one build/bind/initialize: parameters named and laid out as before
    const auto views = s2s.parameters();
    REQUIRE(!views.empty());
    CHECK(views.front().name == "encoder.weight_ih");
    CHECK(views.back().name == "output.layer.bias");
}

TEST_CASE("Apps and fit validation chunk through for_chunks", "[network]") {
    const Mat x = data(6, 9, 10);
    check_bad_batch_sizes([&](Index b) { latent::knn_impute<float>(x, x, 2, b); });
    latent::VectorIndex<float> index;
    index.add(x);
    check_bad_batch_sizes([&](Index b) { index.search(x, 1, b); });

    auto ae = small_ae();
    latent::LatentIndex<float> li(ae);
    li.add(data(12, 4, 11));
    check_bad_batch_sizes([&](Index b) { li.search(data(12, 2, 12), 1, b); });
}

TEST_CASE("Network::build_shared reads another network's parameters", "[network]") {
    auto ae = small_ae();
    latent::Autoencoder<float> copy(latent::LayerFactory<float>::builtin().make(ae.network().root().config().children[0]),
                                    latent::LayerFactory<float>::builtin().make(ae.network().root().config().children[1]));
    copy.build_shared(ae);
    const Mat x = data(12, 3, 13);
    CHECK(copy.reconstruct(x) == ae.reconstruct(x));
    ae.params().values() *= 0.5f;  // the copy sees the change: it holds no parameters of its own
    CHECK(copy.reconstruct(x) == ae.reconstruct(x));
    CHECK(copy.params().size() == 0);

    latent::DenseAutoencoderOptions o;
    o.sizes = {12, 5, 3};
    latent::Rng rng(2);
    auto other = latent::make_dense_autoencoder<float>(o, rng);
    latent::Autoencoder<float> mismatch(latent::LayerFactory<float>::builtin().make(other.network().root().config().children[0]),
                                        latent::LayerFactory<float>::builtin().make(other.network().root().config().children[1]));
    CHECK_THROWS_AS(mismatch.build_shared(ae), latent::ConfigError);
}
