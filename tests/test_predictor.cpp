// latent-test: own-executable
// Serving (serve/predictor.hpp): per-thread predictors on one shared const
// model give bitwise the model's own outputs, from 8 threads at once as
// from one; a repeated single-sample (and batch-8) call allocates nothing.
//
// Allocation checks use EIGEN_RUNTIME_NO_MALLOC as tests/test_alloc.cpp does.
#include "no_malloc.hpp"  // first: it configures Eigen

#include <cstdio>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "support.hpp"

#include <latent/latent.hpp>

using latent::Index;
using Mat = latent::Matrix<float>;
using Vec = latent::Vector<float>;

namespace {

// Runs f() `times` times; every call after the first must not allocate.
template <class F>
std::string repeated_calls_allocate(int times, F&& f) {
    return latent_test::later_calls_allocate(times, "call", [&](int) { f(); });
}

Mat data(Index rows, Index cols, std::uint64_t seed) {
    latent::Rng rng(seed);
    Mat x(rows, cols);
    rng.fill_uniform(x, 0.05, 0.95);
    return x;
}

latent::Autoencoder<float> small_ae(std::vector<Index> sizes = {64, 32, 8}) {
    latent::Rng rng(1);
    latent::DenseAutoencoderOptions o;
    o.sizes = std::move(sizes);
    return latent::make_dense_autoencoder<float>(o, rng);
}

bool same_bits(const Mat& a, const Mat& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::equal(a.data(), a.data() + a.size(), b.data());  // bitwise for finite values
}

// 8 threads, each with its own predictor from make(), run f(predictor, column j)
// for every column j of x several times; every result must equal `expected`.
template <class Make, class F>
void check_concurrent(const Mat& x, const Mat& expected, Make&& make, F&& f) {
    const int threads = 8, rounds = 5;
    std::vector<Mat> got(threads, Mat(expected.rows(), expected.cols()));
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            auto p = make();
            for (int r = 0; r < rounds; ++r)
                for (Index j = 0; j < x.cols(); ++j) got[static_cast<std::size_t>(t)].col(j) = f(p, x.col(j));
        });
    for (auto& th : pool) th.join();
    for (int t = 0; t < threads; ++t) {
        INFO("thread " << t);
        CHECK(same_bits(got[static_cast<std::size_t>(t)], expected));
    }
}

}  // namespace

TEST_CASE("AutoencoderPredictor: bitwise the model's outputs, batch and single sample", "[serve]") {
    auto ae = small_ae();
    const Mat x = data(64, 8, 2);
    const latent::Autoencoder<float>& shared = ae;
    latent::AutoencoderPredictor<float> p(shared);
    CHECK(same_bits(p.reconstruct(x), ae.reconstruct(x)));
    CHECK(same_bits(p.encode(x), ae.encode(x)));
    CHECK(same_bits(p.decode(ae.encode(x)), ae.decode(ae.encode(x))));
    const Vec scores = ae.reconstruction_error(x);
    CHECK(same_bits(p.score(x), scores));
    const Mat one = ae.reconstruct(x.col(3));  // one column through the model
    const std::vector<float> v = p.reconstruct_sample(x.col(3));
    CHECK(same_bits(Eigen::Map<const Mat>(v.data(), 64, 1), one));
    CHECK(p.score_sample(x.col(3)) == ae.reconstruction_error(x.col(3))(0));
    Mat out(64, 8);
    p.reconstruct(x, out);
    CHECK(same_bits(out, ae.reconstruct(x)));
    CHECK(p.reconstruct(Mat(64, 0)).cols() == 0);
    CHECK_THROWS_AS(p.reconstruct(Mat::Zero(63, 1)), latent::ShapeError);
    // the predictor reads the shared parameters: a change shows at once
    ae.params().values() *= 0.5f;
    CHECK(same_bits(p.reconstruct(x), ae.reconstruct(x)));
}

// Every predictor kind, also after copy_weights() (a copy of the parameters of its own).
TEST_CASE("predictors for every model kind give the model's own outputs", "[serve]") {
    SECTION("tied autoencoder, and its network loaded from a file") {
        latent::Rng rng(3);
        latent::DenseAutoencoderOptions o;
        o.sizes = {20, 10, 4};
        o.tied = true;
        auto ae = latent::make_dense_autoencoder<float>(o, rng);
        const Mat x = data(20, 5, 4);
        latent::AutoencoderPredictor<float> p(ae);
        CHECK(same_bits(p.reconstruct(x), ae.reconstruct(x)));
        const std::string path = "test_predictor_tied.lat";
        latent::save(ae, path);
        const auto net = latent::load_network<float>(path);
        std::remove(path.c_str());
        latent::NetworkPredictor<float> np(net);
        CHECK(same_bits(np.predict(x), ae.reconstruct(x)));
        latent::NetworkPredictor<float> npc(net);
        npc.copy_weights();
        CHECK(same_bits(npc.predict(x), ae.reconstruct(x)));
    }
    SECTION("VAE") {
        latent::Rng rng(5);
        auto vae = latent::make_dense_vae<float>({16, 8, 3}, rng);
        const Mat x = data(16, 6, 6);
        latent::VaePredictor<float> p(vae);
        CHECK(same_bits(p.reconstruct(x), vae.reconstruct(x)));
        CHECK(same_bits(p.encode_mean(x), vae.encode_mean(x)));
        const Mat z = data(3, 4, 7);
        CHECK(same_bits(p.decode(z), vae.decode(z)));
        latent::VaePredictor<float> pc(vae);
        pc.copy_weights();
        CHECK(same_bits(pc.reconstruct(x), vae.reconstruct(x)));
    }
    SECTION("sequence autoencoder and seq2seq") {
        latent::SequenceAutoencoderOptions o;
        o.steps = 5;
        o.features = 3;
        o.encoder_units = {6};
        latent::Rng rng(8);
        latent::SequenceAutoencoder<float> sae(o, rng);
        const Mat x = data(15, 4, 9);
        latent::SequencePredictor<float> p(sae);
        CHECK(same_bits(p.reconstruct(x), sae.reconstruct(x)));
        CHECK(same_bits(p.encode(x), sae.encode(x)));
        CHECK(same_bits(p.score(x), sae.reconstruction_error(x)));
        latent::SequencePredictor<float> pc(sae);
        pc.copy_weights();
        CHECK(same_bits(pc.reconstruct(x), sae.reconstruct(x)));

        latent::Seq2SeqOptions so;
        so.source_steps = 3;
        so.source_features = 4;
        so.target_steps = 4;
        so.target_vocab = 5;
        so.units = 7;
        latent::Seq2Seq<float> s2s(so, rng);
        const Mat src = data(12, 6, 10);
        latent::Seq2SeqPredictor<float> sp(s2s);
        CHECK(sp.greedy_decode(src) == s2s.greedy_decode(src));
        latent::Seq2SeqPredictor<float> spc(s2s);
        spc.copy_weights();
        CHECK(spc.greedy_decode(src) == s2s.greedy_decode(src));
    }
    SECTION("apps: classifier, anomaly detector, latent index") {
        latent::SoftmaxClassifier<float> clf(3);
        const Mat x = data(6, 30, 11);
        std::vector<int> labels(30);
        for (std::size_t j = 0; j < labels.size(); ++j) labels[j] = static_cast<int>(j % 3);
        latent::Adam<float> adam(1e-2);
        latent::FitOptions<float> fo;
        fo.epochs = 2;
        fo.progress = false;
        clf.fit(x, labels, adam, fo);
        const Mat proba = clf.predict_proba(x);
        const auto pred = clf.predict(x);
        for (Index j = 0; j < x.cols(); ++j) {
            const auto p = clf.predict_proba_sample(x.col(j));
            for (Index c = 0; c < 3; ++c) CHECK(p[static_cast<std::size_t>(c)] == Approx(proba(c, j)).epsilon(1e-5));
            CHECK(clf.predict_sample(x.col(j)) == pred[static_cast<std::size_t>(j)]);
        }

        latent::AnomalyDetector<float> det(small_ae());
        const Mat y = data(64, 5, 12);
        auto dp = det.make_predictor();
        const Vec s = det.score(y);
        // One column and a batch of five are different product shapes: the engine measured for each
        // shape class may differ (it did on the CI machine), so they agree to rounding, not bitwise.
        for (Index j = 0; j < y.cols(); ++j) CHECK(det.score_sample(y.col(j), dp) == Approx(s(j)).epsilon(1e-5));
        latent::AutoencoderPredictor<float> foreign(det.model());
        CHECK_NOTHROW(det.score_sample(y.col(0), foreign));  // same model object
        auto other = small_ae();
        latent::AutoencoderPredictor<float> wrong(other);
        CHECK_THROWS_AS(det.score_sample(y.col(0), wrong), latent::ConfigError);

        auto ae = small_ae();
        latent::LatentIndex<float> index(ae);
        index.add(data(64, 20, 13));
        latent::AutoencoderPredictor<float> ip(ae);
        const auto hits = index.search(y, 3);
        for (Index j = 0; j < y.cols(); ++j) {
            const auto q = index.query(y.col(j), 3, ip);
            REQUIRE(q.size() == 3);
            for (Index i = 0; i < 3; ++i) CHECK(q[static_cast<std::size_t>(i)] == hits.indices(i, j));
        }
    }
}

TEST_CASE("copy_weights: the copy no longer reads the model", "[serve]") {
    auto ae = small_ae();
    const Mat x = data(64, 5, 21);
    const Mat before = ae.reconstruct(x);
    latent::AutoencoderPredictor<float> p(ae);
    p.copy_weights();
    p.copy_weights();  // a second call keeps the copy
    CHECK(same_bits(p.reconstruct(x), before));
    latent::AutoencoderPredictor<float> shared(ae);
    ae.params().values() *= 0.5f;  // the model changes (not while predictors run: here, between calls)
    CHECK(same_bits(p.reconstruct(x), before));  // the copy kept the old weights
    CHECK(same_bits(shared.reconstruct(x), ae.reconstruct(x)));
    CHECK(!same_bits(shared.reconstruct(x), before));
}

TEST_CASE("8 threads on one shared model give bitwise the sequential outputs", "[serve][threads]") {
    SECTION("dense autoencoder: reconstruct, encode, score") {
        const auto ae = small_ae();
        const Mat x = data(64, 16, 14);
        latent::AutoencoderPredictor<float> seq(ae);
        Mat expected(64, 16), codes(8, 16);
        Mat scores(1, 16);
        for (Index j = 0; j < x.cols(); ++j) {
            expected.col(j) = seq.reconstruct(x.col(j));
            codes.col(j) = seq.encode(x.col(j));
            scores(0, j) = seq.score_sample(x.col(j));
        }
        auto make = [&] { return latent::AutoencoderPredictor<float>(ae); };
        check_concurrent(x, expected, make, [](auto& p, const auto& col) { return p.reconstruct(col); });
        check_concurrent(x, codes, make, [](auto& p, const auto& col) { return p.encode(col); });
        check_concurrent(x, scores, make, [](auto& p, const auto& col) { return Vec::Constant(1, p.score_sample(col)); });
        auto make_copied = [&] {
            latent::AutoencoderPredictor<float> p(ae);
            p.copy_weights();
            return p;
        };
        check_concurrent(x, expected, make_copied, [](auto& p, const auto& col) { return p.reconstruct(col); });
    }
    SECTION("LSTM sequence autoencoder") {
        latent::SequenceAutoencoderOptions o;
        o.steps = 6;
        o.features = 2;
        o.encoder_units = {8};
        latent::Rng rng(15);
        const latent::SequenceAutoencoder<float> sae(o, rng);
        const Mat x = data(12, 10, 16);
        latent::SequencePredictor<float> seq(sae);
        Mat expected(12, 10);
        for (Index j = 0; j < x.cols(); ++j) expected.col(j) = seq.reconstruct(x.col(j));
        check_concurrent(x, expected, [&] { return latent::SequencePredictor<float>(sae); },
                         [](auto& p, const auto& col) { return p.reconstruct(col); });
    }
    SECTION("convolutional network") {
        auto enc = std::make_unique<latent::Sequential<float>>();
        enc->add<latent::Conv2D<float>>(4, 3, latent::ConvOptions::same(2)).add<latent::Activation<float>>(latent::Act::relu);
        auto dec = std::make_unique<latent::Sequential<float>>();
        dec->add<latent::ConvTranspose2D<float>>(1, 3, latent::ConvOptions::same(2)).add<latent::Activation<float>>(latent::Act::sigmoid);
        latent::Autoencoder<float> ae(std::move(enc), std::move(dec));
        latent::Rng rng(17);
        ae.build(latent::Shape{1, 8, 8}, rng);
        const Mat x = data(64, 6, 18);
        const latent::Autoencoder<float>& shared = ae;
        latent::AutoencoderPredictor<float> seq(shared);
        Mat expected(64, 6);
        for (Index j = 0; j < x.cols(); ++j) expected.col(j) = seq.reconstruct(x.col(j));
        CHECK(same_bits(expected, ae.reconstruct(x, 1)));
        check_concurrent(x, expected, [&] { return latent::AutoencoderPredictor<float>(shared); },
                         [](auto& p, const auto& col) { return p.reconstruct(col); });
    }
}

TEST_CASE("a repeated single-sample or batch-8 call allocates nothing", "[serve][alloc]") {
    const auto ae = small_ae();
    latent::AutoencoderPredictor<float> p(ae);
    const Mat x = data(64, 8, 19);
    const Vec one = x.col(0);
    Mat out(64, 8);
    Mat out1(64, 1);
    Vec scores(8);
    std::string where;
    where = repeated_calls_allocate(4, [&] { p.reconstruct(one, out1); });
    INFO(where);
    CHECK(where.empty());
    where = repeated_calls_allocate(4, [&] { p.reconstruct(one); });
    CHECK(where.empty());
    where = repeated_calls_allocate(4, [&] { p.encode(one); });
    CHECK(where.empty());
    where = repeated_calls_allocate(4, [&] { p.reconstruct(x, out); });
    CHECK(where.empty());
    where = repeated_calls_allocate(4, [&] { p.score(x, scores); });
    CHECK(where.empty());

    latent::Rng rng(20);
    auto vae = latent::make_dense_vae<float>({64, 16, 4}, rng);
    latent::VaePredictor<float> vp(vae);
    where = repeated_calls_allocate(4, [&] { vp.reconstruct(one); });
    CHECK(where.empty());
}

// ---- bfloat16 weights (use_bf16_weights, opt-in)

namespace {

// The model's Dense weights rounded to bfloat16 in place (biases stay float).
template <class Model>
void round_weights_to_bf16(Model& model) {
    for (auto& v : model.network().root().parameters())
        if (v.name.size() >= 6 && v.name.compare(v.name.size() - 6, 6, "weight") == 0)
            for (Index i = 0; i < v.value.size(); ++i)
                v.value.data()[i] = latent::detail::from_bfloat16(latent::detail::to_bfloat16(v.value.data()[i]));
}

}  // namespace

TEST_CASE("use_bf16_weights: the float model with its weights rounded, bitwise per column and across threads", "[serve][bf16]") {
    const auto ae = small_ae();
    const Mat x = data(64, 9, 22);
    latent::AutoencoderPredictor<float> p(ae);
    CHECK(p.use_bf16_weights() == 4);  // 64-32-8-32-64: four Dense layers
    const Mat got = p.reconstruct(x);
    // the same model with rounded weights, computed in float by the usual engines
    auto rounded = small_ae();
    round_weights_to_bf16(rounded);
    const Mat want = rounded.reconstruct(x);
    CHECK((got - want).cwiseAbs().maxCoeff() < 1e-5f);
    // against the float model: the rounding of the weights, no more
    const Mat exact = latent::AutoencoderPredictor<float>(ae).reconstruct(x);
    CHECK((got - exact).cwiseAbs().maxCoeff() < 1e-2f);
    CHECK(!same_bits(got, exact));
    // each column on its own gives the batch's column, bitwise
    for (Index j = 0; j < x.cols(); ++j) {
        INFO("column " << j);
        CHECK(same_bits(p.reconstruct(x.col(j)), got.col(j)));
    }
    // the shared model is untouched
    CHECK(same_bits(latent::AutoencoderPredictor<float>(ae).reconstruct(x), exact));
    auto make = [&] {
        latent::AutoencoderPredictor<float> q(ae);
        q.use_bf16_weights();
        return q;
    };
    check_concurrent(x, got, make, [](auto& q, const auto& col) { return q.reconstruct(col); });
    // nothing allocated by a repeated single-sample call
    const Vec one = x.col(0);
    Mat out1(64, 1);
    const std::string where = repeated_calls_allocate(4, [&] { p.reconstruct(one, out1); });
    INFO(where);
    CHECK(where.empty());
}

TEST_CASE("use_bf16_weights: VAE and Network predictors; double models and TiedDense keep float; training is unchanged",
          "[serve][bf16]") {
    latent::Rng rng(23);
    auto vae = latent::make_dense_vae<float>({64, 16, 4}, rng);
    latent::VaePredictor<float> vp(vae);
    const Mat x = data(64, 4, 24);
    const Mat exact = vp.reconstruct(x);
    CHECK(vp.use_bf16_weights() > 0);
    const Mat got = vp.reconstruct(x);
    CHECK((got - exact).cwiseAbs().maxCoeff() < 1e-2f);
    CHECK(!same_bits(got, exact));

    auto ae = small_ae();
    latent::NetworkPredictor<float> np(ae.network());
    CHECK(np.use_bf16_weights() == 4);
    latent::AutoencoderPredictor<float> ap(ae);
    ap.use_bf16_weights();
    CHECK(same_bits(np.predict(x), ap.reconstruct(x)));

    latent::Rng rd(25);
    latent::DenseAutoencoderOptions o;
    o.sizes = {16, 8};
    const auto ae_double = latent::make_dense_autoencoder<double>(o, rd);
    latent::AutoencoderPredictor<double> pd(ae_double);
    CHECK(pd.use_bf16_weights() == 0);
    o.tied = true;
    const auto tied = latent::make_dense_autoencoder<float>(o, rd);
    latent::AutoencoderPredictor<float> pt(tied);
    CHECK(pt.use_bf16_weights() == 1);  // the encoder's Dense; the TiedDense decoder stays float

    // a Dense layer: train-mode forward keeps the float weights
    latent::Dense<float> unbuilt(4);
    LATENT_CHECK_THROWS_WITH_ALL(unbuilt.use_bf16_weights(), latent::Error, "Dense", "built model");
    latent::Network<float> net(std::make_unique<latent::Dense<float>>(8));
    net.build(latent::Shape{16}, rd);
    Mat xi = data(16, 3, 26);
    const Mat train_before = net.root().forward(xi, latent::Mode::train);
    const Mat infer_before = net.root().forward(xi, latent::Mode::infer);
    CHECK(net.root().use_bf16_weights() == 1);
    CHECK(same_bits(net.root().forward(xi, latent::Mode::train), train_before));
    CHECK(!same_bits(net.root().forward(xi, latent::Mode::infer), infer_before));
}
