// DataSource, MatrixSource and BatchReader (data/source.hpp), the block
// shuffle of BatchSampler, and fit() reading through them.
#include "support.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include <latent/latent.hpp>

using latent::Index;
using latent::Matrix;

namespace {

// A source over a matrix that asks for blocks and prefetching, and records what it is told.
template <class S>
class StreamingMatrix : public latent::DataSource<S> {
public:
    StreamingMatrix(const Matrix<S>& x, latent::StreamOptions so) : x_(&x), so_(so) {}
    Index samples() const override { return x_->cols(); }
    Index features() const override { return x_->rows(); }
    latent::StreamOptions stream_options() const override { return so_; }
    void gather(const Index* idx, Index n, Matrix<S>& x, Matrix<S>*, Matrix<S>*) override {
        if (check_release)  // (gather may run on the reader's thread: count here, CHECK on the test's thread)
            for (Index j = 0; j < n; ++j) read_after_release_ += static_cast<Index>(released_.count(idx[j]));
        latent::gather_columns(*x_, idx, n, x);
    }
    void release(Index begin, Index end) override {
        for (Index i = begin; i < end; ++i) released_.insert(i);
    }
    void new_epoch() { released_.clear(); }
    std::set<Index> released_;
    Index read_after_release_ = 0;  // samples read again after their window was released: must stay 0
    bool check_release = true;

private:
    const Matrix<S>* x_;
    latent::StreamOptions so_;
};

template <class S>
latent::Autoencoder<S> small_ae(std::uint64_t seed, double dropout = 0.0) {
    latent::Rng rng(seed);
    latent::DenseAutoencoderOptions o;
    o.sizes = {12, 8, 3};
    o.dropout = dropout;
    return latent::make_dense_autoencoder<S>(o, rng);
}

}  // namespace

TEST_CASE("BatchSampler by blocks: every sample once, windows of whole blocks", "[data][source]") {
    const Index n = 103, block = 8, window = 3;
    latent::BatchSampler s(n, 10);
    s.set_blocks(block, window);
    CHECK(s.window_ends() == std::vector<Index>({24, 48, 72, 96, 103}));
    latent::Rng rng(4);
    std::vector<Index> first;
    for (int epoch = 0; epoch < 3; ++epoch) {
        s.start_epoch(rng);
        const auto& order = s.order();
        std::vector<Index> sorted(order.begin(), order.end());
        std::sort(sorted.begin(), sorted.end());
        for (Index i = 0; i < n; ++i) CHECK(sorted[static_cast<std::size_t>(i)] == i);
        // Window w holds exactly the samples of its blocks.
        Index start = 0;
        for (std::size_t w = 0; w < s.window_ends().size(); ++w) {
            std::set<Index> blocks;
            for (Index p = start; p < s.window_ends()[w]; ++p) blocks.insert(order[static_cast<std::size_t>(p)] / block);
            std::set<Index> want;
            for (Index k = static_cast<Index>(w) * window; k < std::min<Index>((static_cast<Index>(w) + 1) * window, 13); ++k)
                want.insert(s.block_order()[static_cast<std::size_t>(k)]);
            CHECK(blocks == want);
            start = s.window_ends()[w];
        }
        CHECK(s.block_order().back() == 12);  // the short block comes last
        if (epoch == 0) first = order;
    }
    CHECK(first != s.order());
    CHECK_THROWS_AS(s.set_blocks(4, 0), latent::ConfigError);
}

TEST_CASE("BatchReader: shares of each batch per replica, prefetching gives the same batches", "[data][source]") {
    Matrix<float> x(2, 37);
    for (Index j = 0; j < x.cols(); ++j) x(0, j) = static_cast<float>(j), x(1, j) = static_cast<float>(2 * j);
    for (bool prefetch : {false, true}) {
        StreamingMatrix<float> src(x, {5, 2, prefetch}), src0(x, {5, 2, prefetch}), src2(x, {5, 2, prefetch});
        latent::BatchReader<float> whole(src, 0, 37, 8, true);
        latent::BatchReader<float> r0(src0, 0, 37, 8, true, 0, 3), r2(src2, 0, 37, 8, true, 2, 3);
        latent::Rng a(9), b(9), c(9);
        for (int epoch = 0; epoch < 2; ++epoch) {
            for (auto* s : {&src, &src0, &src2}) s->new_epoch();
            whole.start_epoch(a);
            r0.start_epoch(b);
            r2.start_epoch(c);
            Index batches = 0;
            while (whole.next()) {
                REQUIRE(r0.next());
                REQUIRE(r2.next());
                ++batches;
                const Index n = whole.global_length();
                CHECK(n == (batches < 5 ? 8 : 5));
                CHECK(r0.global_length() == n);
                // rank 0 takes [0, n/3), rank 2 takes [2n/3, n)
                CHECK(r0.local_length() == n / 3);
                CHECK(r2.local_length() == n - 2 * n / 3);
                CHECK(r0.x() == whole.x().leftCols(n / 3));
                CHECK(r2.x() == whole.x().rightCols(n - 2 * n / 3));
                CHECK(&whole.y() == &whole.x());  // autoencoding: the batch is its own target
                CHECK(whole.mask() == nullptr);
            }
            CHECK(batches == 5);
            CHECK_FALSE(r0.next());
            CHECK_FALSE(r2.next());
            CHECK(src.released_.size() == 37);  // every window handed back by the end of the epoch
            for (auto* s : {&src, &src0, &src2}) CHECK(s->read_after_release_ == 0);
        }
    }
    StreamingMatrix<float> src(x, {});
    CHECK_THROWS_AS(latent::BatchReader<float>(src, 0, 38, 8, true), latent::ConfigError);
    CHECK_THROWS_AS(latent::BatchReader<float>(src, 0, 37, 8, true, 3, 3), latent::ConfigError);
}

TEST_CASE("BatchReader rethrows a source's error on the training thread", "[data][source]") {
    Matrix<double> x = Matrix<double>::Ones(3, 20);
    x(1, 13) = std::numeric_limits<double>::quiet_NaN();
    for (bool prefetch : {false, true}) {
        StreamingMatrix<double> src(x, {4, 2, prefetch});
        latent::BatchReader<double> r(src, 0, 20, 4, false);
        latent::Rng rng(1);
        r.start_epoch(rng);
        LATENT_CHECK_THROWS_WITH_ALL(
            [&] {
                while (r.next()) {
                }
            }(),
            latent::DataError, "batch inputs", "expected finite values", "nan");
    }
}

TEST_CASE("MatrixSource checks shapes and values", "[data][source]") {
    Matrix<float> x = Matrix<float>::Ones(4, 6), y(2, 5), m(2, 6);
    LATENT_CHECK_THROWS_WITH_ALL(latent::MatrixSource<float>(x, &y), latent::ShapeError, "expected targets with 6 columns", "2x5");
    Matrix<float> y6 = Matrix<float>::Ones(2, 6), m3(3, 6);
    LATENT_CHECK_THROWS_WITH_ALL(latent::MatrixSource<float>(x, &y6, &m3), latent::ShapeError, "expected mask 2x6", "3x6");
    x(2, 3) = std::numeric_limits<float>::infinity();
    LATENT_CHECK_THROWS_WITH_ALL(latent::MatrixSource<float>(x, nullptr, nullptr, "fit"), latent::DataError, "fit inputs",
                                 "expected finite values");
    // NaN targets are fine where the mask says unobserved
    Matrix<float> ok = Matrix<float>::Ones(4, 6);
    y6(1, 2) = std::numeric_limits<float>::quiet_NaN();
    m.setOnes();
    m(1, 2) = 0;
    latent::MatrixSource<float> s(ok, &y6, &m);
    CHECK(s.has_targets());
    CHECK(s.has_mask());
    CHECK(s.target_features() == 2);
    m(1, 2) = 1;
    CHECK_THROWS_AS(latent::MatrixSource<float>(ok, &y6, &m), latent::DataError);
}

// fit(Matrix) is the loop below written with the public pieces; the two must agree bit for bit.
template <class S>
void check_fit_is_the_public_loop() {
    latent::Rng drng(5);
    Matrix<S> x(12, 203);
    drng.fill_uniform(x);
    auto ae = small_ae<S>(3, 0.1);
    latent::Adam<S> adam(1e-2);
    latent::FitOptions<S> o;
    o.epochs = 3;
    o.batch_size = 16;
    o.seed = 21;
    o.progress = false;
    o.input_transform = [](Matrix<S>& b, latent::Rng& r) { b.row(0).array() += static_cast<S>(r.normal()); };
    latent::fit(ae, adam, x, o);

    auto ref = small_ae<S>(3, 0.1);
    latent::Adam<S> adam2(1e-2);
    latent::Rng rng(21);
    latent::BatchSampler sampler(x.cols(), 16);
    Matrix<S> xb, yb;
    for (int epoch = 0; epoch < 3; ++epoch) {
        sampler.start_epoch(rng);
        for (Index b = 0; b < sampler.size(); ++b) {
            latent::gather_columns(x, sampler.batch_indices(b), sampler.batch_length(b), xb);
            yb = xb;
            o.input_transform(xb, rng);
            ref.params().zero_grad();
            ref.train_batch(xb, yb, nullptr);
            adam2.step(ref.params());
        }
    }
    CHECK(ae.params().values() == ref.params().values());  // bitwise
}

TEST_CASE("fit(Matrix) is the public batching loop, bit for bit", "[train][source]") {
    check_fit_is_the_public_loop<float>();
    check_fit_is_the_public_loop<double>();
}

TEST_CASE("fit from a source equals fit from the matrix; blocks and prefetching keep training sound", "[train][source]") {
    latent::Rng drng(8);
    Matrix<float> x(12, 150);
    drng.fill_uniform(x);
    latent::FitOptions<float> o;
    o.epochs = 2;
    o.batch_size = 20;
    o.seed = 4;
    o.validation_split = 0.2;
    o.progress = false;

    auto a = small_ae<float>(1);
    latent::Adam<float> adam_a(1e-2);
    const auto ha = latent::fit(a, adam_a, x, o);

    auto b = small_ae<float>(1);
    latent::Adam<float> adam_b(1e-2);
    latent::MatrixSource<float> src(x);
    const auto hb = latent::fit(b, adam_b, src, o);
    CHECK(a.params().values() == b.params().values());
    CHECK(ha.losses() == hb.losses());
    CHECK(ha.val_losses() == hb.val_losses());

    // Unshuffled, a streaming source gives the matrix's batches, so the same result;
    // shuffled by blocks, a different order that still trains.
    o.shuffle = false;
    auto c = small_ae<float>(1), d = small_ae<float>(1);
    latent::Adam<float> adam_c(1e-2), adam_d(1e-2);
    latent::fit(c, adam_c, x, o);
    StreamingMatrix<float> stream(x, {7, 2, true});
    stream.check_release = false;  // fit reads on for several epochs (the reader test checks this)
    latent::fit(d, adam_d, stream, o);
    CHECK(c.params().values() == d.params().values());

    o.shuffle = true;
    o.epochs = 20;
    auto e = small_ae<float>(1);
    latent::Adam<float> adam_e(1e-2);
    StreamingMatrix<float> stream2(x, {7, 2, true});
    stream2.check_release = false;
    const auto he = latent::fit(e, adam_e, stream2, o);
    CHECK(he.epochs.back().loss < 0.8 * he.epochs.front().loss);

    // A source with the wrong width, a mask passed beside a source.
    Matrix<float> narrow(5, 10);
    narrow.setZero();
    latent::MatrixSource<float> bad(narrow);
    LATENT_CHECK_THROWS_WITH_ALL(latent::fit(e, adam_e, bad, o), latent::ShapeError, "12 input and 12 target features", "found 5 and 5");
    Matrix<float> m = Matrix<float>::Ones(12, 150);
    o.mask = &m;
    CHECK_THROWS_AS(latent::fit(e, adam_e, src, o), latent::ConfigError);
}
